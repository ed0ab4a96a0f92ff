//! `[supervisord] exit_on` (an extension): when a program's failure ends
//! the daemon, so that a container orchestrator restarts the container.

/// What makes the daemon stop everything and exit non-zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExitOn {
    /// A program entered FATAL (its start retries ran out).
    pub fatal: bool,
    /// A program exited with a code not in its `exitcodes`.
    pub unexpected_exit: bool,
}

impl ExitOn {
    /// `fatal`, `unexpected_exit`, both (commas or blanks), or `none`/empty.
    pub fn parse(value: &str) -> Result<ExitOn, String> {
        let mut out = ExitOn::default();
        for word in value
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|w| !w.is_empty())
        {
            match word.to_ascii_lowercase().as_str() {
                "fatal" => out.fatal = true,
                "unexpected_exit" => out.unexpected_exit = true,
                "none" => {}
                _ => {
                    return Err(format!(
                        "value {:?} is not valid for exit_on (fatal, unexpected_exit or none)",
                        word
                    ))
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        assert_eq!(ExitOn::parse(""), Ok(ExitOn::default()));
        assert_eq!(ExitOn::parse("none"), Ok(ExitOn::default()));
        let fatal = ExitOn::parse("fatal").expect("fatal");
        assert!(fatal.fatal && !fatal.unexpected_exit);
        let both = ExitOn::parse("FATAL, unexpected_exit").expect("both");
        assert!(both.fatal && both.unexpected_exit);
        assert!(ExitOn::parse("fatal,crash").is_err());
    }
}
