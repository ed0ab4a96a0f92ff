//! `GET /ready` and `GET /live` (extensions), for a Docker HEALTHCHECK or
//! Kubernetes readiness and liveness probes, on every HTTP server and
//! behind its basic auth like every other route.
//!
//! `/ready`: 200 when every autostart program is RUNNING (or, a one-shot
//! job, has exited with one of its `exitcodes`), else 503 with a JSON body
//! naming the ones that are not. `/live`: 200 while the loop answers a
//! no-op within [`LIVE_DEADLINE`], else 503: a daemon whose loop is stuck
//! is not alive, however well its HTTP threads still answer.

use super::rest::json::Json;
use crate::rpc::xmlrpc::Value;
use crate::rpc::Dispatcher;
use std::time::Duration;

/// How long `/live` waits for the loop.
pub const LIVE_DEADLINE: Duration = Duration::from_secs(5);

/// Whether this path is a probe.
pub fn owns(path: &str) -> bool {
    path == "/ready" || path == "/live"
}

/// The status and JSON body of a probe.
pub fn answer(dispatcher: &Dispatcher, path: &str) -> (u16, String) {
    if path == "/live" {
        return if dispatcher.loop_answers(LIVE_DEADLINE) {
            (200, Json::object([("live", Json::Bool(true))]).to_line())
        } else {
            (
                503,
                Json::object([
                    ("live", Json::Bool(false)),
                    (
                        "error",
                        Json::String(format!(
                            "the loop did not answer within {} s",
                            LIVE_DEADLINE.as_secs()
                        )),
                    ),
                ])
                .to_line(),
            )
        };
    }
    let infos = dispatcher.standard("getAllProcessInfo", Vec::new());
    let configs = dispatcher.standard("getAllConfigInfo", Vec::new());
    let (Ok(Value::Array(infos)), Ok(Value::Array(configs))) = (infos, configs) else {
        // Shutting down or restarting: not ready.
        return (
            503,
            Json::object([
                ("ready", Json::Bool(false)),
                ("error", Json::String("supervisord is not running".into())),
            ])
            .to_line(),
        );
    };
    let waiting = not_ready(&infos, &configs, &dispatcher.not_healthy());
    let body = Json::object([
        ("ready", Json::Bool(waiting.is_empty())),
        (
            "not_ready",
            Json::Array(
                waiting
                    .into_iter()
                    .map(|(name, state)| {
                        Json::object([("name", Json::String(name)), ("state", Json::String(state))])
                    })
                    .collect(),
            ),
        ),
    ]);
    let status = match &body {
        Json::Object(m) if matches!(m.first(), Some((_, Json::Bool(true)))) => 200,
        _ => 503,
    };
    (status, body.to_line())
}

/// The autostart programs that are not up, as (`group:name`, statename).
/// A RUNNING program whose health check has not passed (yet) is not
/// ready either; its state shows as `RUNNING (not healthy)`.
fn not_ready(
    infos: &[Value],
    configs: &[Value],
    unhealthy: &[(String, String)],
) -> Vec<(String, String)> {
    let text = |v: &Value, k: &str| {
        v.struct_get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let mut out = Vec::new();
    for info in infos {
        let (group, name) = (text(info, "group"), text(info, "name"));
        let Some(config) = configs
            .iter()
            .find(|c| text(c, "group") == group && text(c, "name") == name)
        else {
            continue;
        };
        if config.struct_get("autostart") != Some(&Value::Bool(true)) {
            continue;
        }
        let state = text(info, "statename");
        let exitcodes: Vec<i64> = config
            .struct_get("exitcodes")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_int).collect())
            .unwrap_or_default();
        let done = state == "EXITED"
            && info
                .struct_get("exitstatus")
                .and_then(Value::as_int)
                .is_some_and(|es| exitcodes.contains(&es));
        let sick = state == "RUNNING" && unhealthy.iter().any(|(g, n)| *g == group && *n == name);
        if (state != "RUNNING" && !done) || sick {
            let state = if sick {
                "RUNNING (not healthy)".to_string()
            } else {
                state
            };
            let spec = if group == name {
                name
            } else {
                format!("{group}:{name}")
            };
            out.push((spec, state));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(name: &str, state: &str, exitstatus: i64) -> Value {
        Value::structure([
            ("group", Value::from(name)),
            ("name", Value::from(name)),
            ("statename", Value::from(state)),
            ("exitstatus", Value::Int(exitstatus)),
        ])
    }

    fn config(name: &str, autostart: bool) -> Value {
        Value::structure([
            ("group", Value::from(name)),
            ("name", Value::from(name)),
            ("autostart", Value::Bool(autostart)),
            ("exitcodes", Value::array([Value::Int(0)])),
        ])
    }

    #[test]
    fn only_autostart_programs_that_are_not_up_count() {
        let infos = [
            info("up", "RUNNING", 0),
            info("starting", "STARTING", 0),
            info("manual", "STOPPED", 0),
            info("job", "EXITED", 0),
            info("crashed", "EXITED", 1),
        ];
        let configs = [
            config("up", true),
            config("starting", true),
            config("manual", false),
            config("job", true),
            config("crashed", true),
        ];
        assert_eq!(
            not_ready(&infos, &configs, &[]),
            [
                ("starting".to_string(), "STARTING".to_string()),
                ("crashed".to_string(), "EXITED".to_string())
            ]
        );
        let sick = [("up".to_string(), "up".to_string())];
        assert_eq!(
            not_ready(&infos[..1], &configs[..1], &sick),
            [("up".to_string(), "RUNNING (not healthy)".to_string())]
        );
    }
}
