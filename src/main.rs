//! One multi-call binary: what it does depends on the name it was called
//! by (`supervisord`, `supervisorctl`, `echo_supervisord_conf`, `pidproxy`)
//! and, for `supervisord`, on a leading `ctl`, `service`, `init` or
//! `version` argument.

use std::ffi::OsString;

fn main() {
    let mut args: Vec<OsString> = std::env::args_os().collect();
    let argv0 = args
        .first()
        .map(|a| a.to_string_lossy().into_owned())
        .unwrap_or_else(|| "supervisord".to_string());
    let rest: Vec<OsString> = args.drain(1..).collect();
    let name = std::path::Path::new(&argv0)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let code = match name.as_str() {
        "supervisorctl" => supervisord::app::supervisorctl_main(&argv0, rest),
        "echo_supervisord_conf" => supervisord::app::echo_supervisord_conf_main(),
        "pidproxy" => supervisord::app::pidproxy_main(&argv0, rest),
        _ => match rest.first().and_then(|a| a.to_str()) {
            Some("ctl") => supervisord::app::supervisorctl_main(&argv0, rest[1..].to_vec()),
            Some("version") => supervisord::app::version_main(),
            Some("service") => supervisord::app::service_main(&argv0, rest[1..].to_vec()),
            Some("init") => supervisord::app::init_main(&argv0, rest[1..].to_vec()),
            _ => supervisord::app::supervisord_main(&argv0, rest),
        },
    };
    std::process::exit(code);
}
