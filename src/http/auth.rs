//! HTTP basic auth as Supervisor checks it: realm `default`, one user per
//! server, the password in clear or as `{SHA}` + the hex SHA-1 of it.
//! Compared in constant time so response timing does not leak how much of
//! a guess was right.

use crate::pycompat::base64;

/// The credentials a server requires (None: no auth, which Python logs
/// as CRIT at start-up).
#[derive(Debug, Clone)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl Credentials {
    /// Checks an `Authorization` header value.
    pub fn accepts(&self, header: Option<&str>) -> bool {
        let Some((user, pass)) = header.and_then(parse_basic) else {
            return false;
        };
        // Evaluate both comparisons whatever the first one gives.
        let user_ok = constant_time_eq(user.as_bytes(), self.username.as_bytes());
        let pass_ok = match self.password.strip_prefix("{SHA}") {
            Some(hex) => {
                let digest = sha1_smol::Sha1::from(pass.as_bytes()).digest().to_string();
                constant_time_eq(digest.as_bytes(), hex.as_bytes())
            }
            None => constant_time_eq(pass.as_bytes(), self.password.as_bytes()),
        };
        user_ok & pass_ok
    }
}

/// `Basic base64(user:password)` → (user, password); the password may
/// contain colons.
fn parse_basic(header: &str) -> Option<(String, String)> {
    let (scheme, rest) = header.trim().split_once(char::is_whitespace)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::a2b_base64(rest.trim().as_bytes()).ok()?;
    let text = String::from_utf8_lossy(&decoded);
    let (user, pass) = text.split_once(':')?;
    Some((user.to_string(), pass.to_string()))
}

/// Equal length and bytes, taking the same time whatever the bytes are
/// (the length itself is not secret).
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(user_pass: &str) -> String {
        format!("Basic {}", base64::b64encode(user_pass.as_bytes()))
    }

    #[test]
    fn plain_password() {
        let c = Credentials {
            username: "user".into(),
            password: "123".into(),
        };
        assert!(c.accepts(Some(&header("user:123"))));
        assert!(!c.accepts(Some(&header("user:1234"))));
        assert!(!c.accepts(Some(&header("usr:123"))));
        assert!(!c.accepts(Some("Bearer abc")));
        assert!(!c.accepts(Some("Basic !!!")));
        assert!(!c.accepts(None));
    }

    #[test]
    fn sha_password_and_colons() {
        // sha1("thepassword")
        let c = Credentials {
            username: "u".into(),
            password: "{SHA}82ab876d1387bfafe46cc1c8a2ef074eae50cb1d".into(),
        };
        assert!(c.accepts(Some(&header("u:thepassword"))));
        assert!(!c.accepts(Some(&header(
            "u:{SHA}82ab876d1387bfafe46cc1c8a2ef074eae50cb1d"
        ))));
        let colon = Credentials {
            username: "u".into(),
            password: "a:b".into(),
        };
        assert!(colon.accepts(Some(&header("u:a:b"))));
    }
}
