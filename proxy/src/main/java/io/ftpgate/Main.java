package io.ftpgate;

public final class Main {
    public static void main(String[] args) {
    }
}
