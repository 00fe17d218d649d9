/**
 * Settings: the immutable record tree ftpgate runs on, and the one loader that reads it with
 * Typesafe Config ({@code reference.conf} defaults, the user's file over them, command-line
 * overrides over both), checks it once and names file, line and key in every error. Nothing else
 * imports Typesafe Config.
 */
package io.ftpgate.config;
