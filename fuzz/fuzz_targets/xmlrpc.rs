//! The XML-RPC codec: `parse_call` (the daemon reading a request) and
//! `parse_response` (supervisorctl reading an answer) on any bytes, and
//! the round trip through our writer.
//!
//! Checked:
//! - neither parser panics, hangs or nests past its depth cap;
//! - whatever a parser accepts, our writer writes and the same parser reads
//!   back as the same thing (ints clamped to 32 bits, line ends
//!   normalised: what the wire format does to every value);
//! - the same for a value built from the input bytes (every type, NaN and
//!   infinities, non-UTF-8 base64, characters XML cannot carry, nesting
//!   around the cap): written as a response, a fault and a call, it reads
//!   back as expected, or is refused exactly when the decoder must refuse
//!   it (too deep, no method name, a base64 `str` that is not UTF-8).

#![no_main]

use arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use supervisord::rpc::xmlrpc::{self, Fault, Response, Value};
use supervisord_fuzz::{
    after_round_trip, depth, same, text_after_round_trip, Side, MAX_VALUE_DEPTH,
};

fuzz_target!(|data: &[u8]| {
    parsed_round_trip(data);
    let mut u = Unstructured::new(data);
    if let Ok(v) = gen_value(&mut u, 1) {
        generated_round_trip(&v, &mut u);
    }
});

fn parsed_round_trip(data: &[u8]) {
    if let Ok(call) = xmlrpc::parse_call(data) {
        assert!(!call.method.is_empty());
        for p in &call.params {
            assert!(depth(p) <= MAX_VALUE_DEPTH, "{p:?}");
        }
        let written = xmlrpc::write_call(&call.method, &call.params);
        let again = match xmlrpc::parse_call(&written) {
            Ok(c) => c,
            Err(e) => panic!(
                "{call:?} written as {:?}: {e}",
                String::from_utf8_lossy(&written)
            ),
        };
        assert_eq!(again.method, text_after_round_trip(&call.method));
        check_params(&call.params, &again.params, Side::Server);
    }
    match xmlrpc::parse_response(data) {
        Ok(Response::Value(v)) => {
            assert!(depth(&v) <= MAX_VALUE_DEPTH, "{v:?}");
            let written = xmlrpc::write_response(&v);
            match xmlrpc::parse_response(&written) {
                Ok(Response::Value(back)) => check_same(&v, &back, Side::Client),
                other => panic!(
                    "{v:?} written as {:?} read back as {other:?}",
                    String::from_utf8_lossy(&written)
                ),
            }
        }
        Ok(Response::Fault(f)) => check_fault(f.code, &f.string),
        Err(_) => {}
    }
}

fn check_params(sent: &[Value], got: &[Value], side: Side) {
    assert_eq!(sent.len(), got.len());
    for (s, g) in sent.iter().zip(got) {
        check_same(s, g, side);
    }
}

fn check_same(sent: &Value, got: &Value, side: Side) {
    let want = after_round_trip(sent, side).expect("a parsed value writes back");
    assert!(
        same(&want, got),
        "sent {sent:?}\nwant {want:?}\ngot  {got:?}"
    );
}

fn check_fault(code: i64, string: &str) {
    let written = xmlrpc::write_fault(code, string);
    let want = Fault {
        code: code.clamp(i32::MIN.into(), i32::MAX.into()),
        string: text_after_round_trip(string),
    };
    match xmlrpc::parse_response(&written) {
        Ok(Response::Fault(f)) => assert_eq!(f, want),
        other => panic!(
            "fault {want:?} written as {:?} read back as {other:?}",
            String::from_utf8_lossy(&written)
        ),
    }
}

fn generated_round_trip(v: &Value, u: &mut Unstructured<'_>) {
    let too_deep = depth(v) > MAX_VALUE_DEPTH;

    let written = xmlrpc::write_response(v);
    let got = xmlrpc::parse_response(&written);
    match (&got, too_deep) {
        (Err(_), true) => {}
        (Ok(Response::Value(back)), false) => check_same(v, back, Side::Client),
        _ => panic!(
            "{v:?} written as {:?} read back as {got:?}",
            String::from_utf8_lossy(&written)
        ),
    }

    let method: String = u.arbitrary().unwrap_or_default();
    let written = xmlrpc::write_call(&method, std::slice::from_ref(v));
    let got = xmlrpc::parse_call(&written);
    let want = after_round_trip(v, Side::Server);
    let want_method = text_after_round_trip(&method);
    match (&got, &want) {
        (Ok(call), Some(want)) if !too_deep && !want_method.is_empty() => {
            assert_eq!(call.method, want_method);
            assert_eq!(call.params.len(), 1);
            assert!(
                same(want, &call.params[0]),
                "sent {v:?}\nwant {want:?}\ngot  {got:?}"
            );
        }
        (Err(_), None) => {}
        (Err(_), Some(_)) if too_deep || want_method.is_empty() => {}
        _ => panic!(
            "call {method:?} with {v:?} written as {:?} read back as {got:?}",
            String::from_utf8_lossy(&written)
        ),
    }

    if let (Ok(code), Ok(string)) = (u.arbitrary::<i64>(), u.arbitrary::<String>()) {
        check_fault(code, &string);
    }
}

/// A value of any type; deeper than the parser's cap now and then.
fn gen_value(u: &mut Unstructured<'_>, level: usize) -> Result<Value> {
    let kinds = if level > MAX_VALUE_DEPTH + 2 { 7 } else { 9 };
    Ok(match u.choose_index(kinds)? {
        0 => Value::Int(u.arbitrary()?),
        1 => Value::Bool(u.arbitrary()?),
        2 => Value::String(u.arbitrary()?),
        3 => Value::Double(f64::from_bits(u.arbitrary()?)),
        4 => Value::DateTime(format!(
            "{:04}{:02}{:02}T{:02}:{:02}:{:02}",
            u.int_in_range(1..=9999)?,
            u.int_in_range(1..=12)?,
            u.int_in_range(1..=28)?,
            u.int_in_range(0..=23)?,
            u.int_in_range(0..=59)?,
            u.int_in_range(0..=59)?,
        )),
        5 => Value::Base64(u.arbitrary()?),
        6 => Value::Nil,
        7 => {
            let n = u.int_in_range(0..=3)?;
            let mut items = Vec::with_capacity(n);
            for _ in 0..n {
                items.push(gen_value(u, level + 1)?);
            }
            Value::Array(items)
        }
        _ => {
            let n = u.int_in_range(0..=3)?;
            let mut members = Vec::with_capacity(n);
            for _ in 0..n {
                members.push((u.arbitrary()?, gen_value(u, level + 1)?));
            }
            Value::Struct(members)
        }
    })
}
