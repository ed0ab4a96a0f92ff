//! RawConfigParser-compatible INI reader.
