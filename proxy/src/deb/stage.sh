#!/bin/sh
# Stages the files of the Debian package that are made from others, for jdeb (proxy/pom.xml,
# profile deb): the unit with the package's jar path, the man page (help2man, from --help and
# --version), the bash completion script (picocli), the compressed changelog.
#   stage.sh REPO_DIR TARGET_DIR
set -eu
repo=$1
target=$2
out=$target/deb
rm -rf "$out"
mkdir -p "$out"

sed -e 's#/opt/ftpgate/ftpgate.jar#/usr/share/ftpgate/ftpgate.jar#g' \
    -e 's#^\# Install: see "Install as a systemd service" in README.md.*#\# Installed by the Debian package ftpgate (README.md, "Install the package").#' \
    "$repo/systemd/ftpgate.service" > "$out/ftpgate.service"
grep -q 'jar /usr/share/ftpgate/ftpgate.jar' "$out/ftpgate.service"

cat > "$out/ftpgate-for-help2man" <<SCRIPT
#!/bin/sh
exec java -XX:-UsePerfData -jar "$target/ftpgate.jar" "\$@"
SCRIPT
chmod 0755 "$out/ftpgate-for-help2man"
help2man --no-info --section=1 --name="FTP application-level gateway with exact, transient firewall leases" \
    --include="$repo/proxy/src/deb/ftpgate.h2m" --output="$out/ftpgate.1" "$out/ftpgate-for-help2man"
# help2man names the program after the file it ran.
sed -i -e 's/ftpgate-for-help2man/ftpgate/g' -e 's/FTPGATE-FOR-HELP2MAN/FTPGATE/g' "$out/ftpgate.1"
gzip -9n "$out/ftpgate.1"

# Sourced by bash-completion, not run: no #! line.
"$out/ftpgate-for-help2man" --completion | sed '1{/^#!/d}' > "$out/ftpgate.bash"
gzip -9n -c "$repo/proxy/src/deb/changelog" > "$out/changelog.gz"
rm "$out/ftpgate-for-help2man"
