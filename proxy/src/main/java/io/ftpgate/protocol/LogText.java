package io.ftpgate.protocol;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Makes wire text safe for a log line or an error message: control characters, C1 controls,
 * invisible format characters (bidi overrides) and undecodable bytes become {@code \xNN} or
 * {@code \x{NNNN}}, a backslash becomes {@code \\}, so a hostile peer cannot forge log lines or
 * drive a terminal. Wire strings carry bytes as ISO-8859-1 chars; when those bytes are valid UTF-8
 * (a UTF-8 path, RFC 2640) they are shown decoded, otherwise every non-ASCII byte is escaped.
 */
public final class LogText {

    private LogText() {
    }

    /**
     * Escapes a whole command or reply line and masks the argument of {@code PASS} (in any case),
     * so a password never reaches a log, even from a line that failed to parse.
     */
    public static String escapeLine(String line) {
        if (line.length() > 5 && line.regionMatches(true, 0, "PASS ", 0, 5)) {
            return escape(line.substring(0, 4)) + " ****";
        }
        return escape(line);
    }

    public static String escape(String wire) {
        StringBuilder out = new StringBuilder(wire.length() + 8);
        String text = decodeUtf8(wire);
        if (text == null) {
            for (int i = 0; i < wire.length(); i++) {
                char c = wire.charAt(i);
                if (c >= 0x20 && c < 0x7f) {
                    appendPrintable(out, c);
                } else {
                    appendEscaped(out, c);
                }
            }
            return out.toString();
        }
        text.codePoints().forEach(cp -> {
            if (isShowable(cp)) {
                appendPrintable(out, cp);
            } else {
                appendEscaped(out, cp);
            }
        });
        return out.toString();
    }

    /** The bytes as UTF-8 text, or null when they are not valid UTF-8 (or not bytes at all). */
    private static String decodeUtf8(String wire) {
        byte[] bytes = new byte[wire.length()];
        for (int i = 0; i < wire.length(); i++) {
            char c = wire.charAt(i);
            if (c > 0xff) {
                return null;
            }
            bytes[i] = (byte) c;
        }
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    private static boolean isShowable(int cp) {
        if (cp < 0x20 || cp == 0x7f) {
            return false;
        }
        if (cp < 0x7f) {
            return true;
        }
        switch (Character.getType(cp)) {
            case Character.CONTROL, Character.FORMAT, Character.UNASSIGNED, Character.PRIVATE_USE,
                    Character.SURROGATE, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR:
                return false;
            default:
                return true;
        }
    }

    private static void appendPrintable(StringBuilder out, int cp) {
        if (cp == '\\') {
            out.append("\\\\");
        } else {
            out.appendCodePoint(cp);
        }
    }

    private static void appendEscaped(StringBuilder out, int cp) {
        if (cp <= 0xff) {
            out.append(String.format("\\x%02x", cp));
        } else {
            out.append(String.format("\\x{%04x}", cp));
        }
    }
}
