//! XML-RPC value model, parser and writer.
