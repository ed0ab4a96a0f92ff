//! `status --json` and `avail --json`: XML-RPC answers as JSON for
//! scripts. Every struct member keeps its name and its XML-RPC type
//! (ints as numbers, booleans as true/false, strings as strings); the
//! writer is the REST routes' (`http::rest::json`), so both escape alike.
//!
//! The array is written one element per line (`[`, then each object on a
//! line of its own followed by `,` except the last, then `]`): still one
//! JSON document for `jq` or `json.load`, and `grep name` finds a
//! process's whole record on one line.

use crate::http::rest::json::{self, Json};
use crate::pycompat::base64::b64encode;
use crate::rpc::xmlrpc::Value;

/// The flag that asks for JSON.
pub const FLAG: &str = "--json";

/// Removes every `--json` from `words`; true if there was one.
pub fn take_flag(words: &mut Vec<String>) -> bool {
    let before = words.len();
    words.retain(|w| w != FLAG);
    words.len() != before
}

/// An XML-RPC value as JSON, member names and order kept.
pub fn from_xmlrpc(v: &Value) -> Json {
    match v {
        Value::Int(i) => Json::Int(*i),
        Value::Bool(b) => Json::Bool(*b),
        Value::String(s) => Json::String(s.clone()),
        Value::Double(d) => Json::Float(*d),
        // JSON has no date type; the ISO 8601 text is what XML-RPC sent.
        Value::DateTime(s) => Json::String(s.clone()),
        Value::Base64(b) => Json::String(b64encode(b)),
        Value::Array(items) => Json::Array(items.iter().map(from_xmlrpc).collect()),
        Value::Struct(members) => Json::Object(
            members
                .iter()
                .map(|(k, v)| (k.clone(), from_xmlrpc(v)))
                .collect(),
        ),
        Value::Nil => Json::Null,
    }
}

/// The document for `items`: one element per line, newline at the end.
pub fn array_lines(items: &[Value]) -> String {
    if items.is_empty() {
        return "[]\n".to_string();
    }
    let mut out = String::from("[\n");
    for (i, item) in items.iter().enumerate() {
        json::write(&mut out, &from_xmlrpc(item));
        out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
    }
    out.push_str("]\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_and_names_are_kept() {
        let v = Value::structure([
            ("name", Value::from("w\u{e9}b")),
            ("pid", Value::Int(42)),
            ("inuse", Value::Bool(true)),
            ("nothing", Value::Nil),
            ("half", Value::Double(0.5)),
            ("blob", Value::Base64(b"hi".to_vec())),
        ]);
        assert_eq!(
            array_lines(&[v]),
            "[\n{\"name\":\"w\u{e9}b\",\"pid\":42,\"inuse\":true,\"nothing\":null,\"half\":0.5,\"blob\":\"aGk=\"}\n]\n"
        );
    }

    #[test]
    fn control_characters_and_quotes_are_escaped() {
        let v = Value::structure([("description", Value::from("a\"b\\c\n\u{1}\t"))]);
        assert_eq!(
            array_lines(&[v]),
            "[\n{\"description\":\"a\\\"b\\\\c\\n\\u0001\\t\"}\n]\n"
        );
    }

    #[test]
    fn one_element_per_line_and_an_empty_array() {
        let a = Value::structure([("n", Value::Int(1))]);
        let b = Value::structure([("n", Value::Int(2))]);
        assert_eq!(array_lines(&[a, b]), "[\n{\"n\":1},\n{\"n\":2}\n]\n");
        assert_eq!(array_lines(&[]), "[]\n");
    }

    #[test]
    fn the_flag_is_taken_wherever_it_is() {
        let mut w: Vec<String> = ["a", "--json", "b"].iter().map(|s| s.to_string()).collect();
        assert!(take_flag(&mut w));
        assert_eq!(w, ["a", "b"]);
        assert!(!take_flag(&mut w));
    }
}
