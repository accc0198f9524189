//! The command line as an operator runs it: the built binary, with a controlled environment.
//! None of these commands opens a database it could change.

use std::process::{Command, Output};

crate::sync_tests!(
    version_prints_the_crate_version,
    config_check_prints_every_setting_with_its_source_and_no_secret,
    config_check_fails_with_a_clear_message_on_an_invalid_setting,
    completions_are_printed_for_each_shell,
    user_flags_keep_the_bounds_of_the_api,
    a_database_that_cannot_be_opened_is_one_plain_line,
    the_first_municipality_and_its_admin_in_one_command,
);

const SECRET: &str = "a-jwt-secret-of-at-least-32-bytes-for-the-cli-test";

fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_municipal-kpi"));
    // Only the settings a test names: the developer's own DATABASE_URL or JWT_SECRET must not leak in.
    command.env_clear().args(args);
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().expect("the binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("UTF-8")
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("UTF-8")
}

/// The `config check` line of a setting, split into its value and source columns.
fn setting_line(text: &str, name: &str) -> Vec<String> {
    let line = text
        .lines()
        .find(|line| line.split_whitespace().next() == Some(name))
        .unwrap_or_else(|| panic!("{name}: {text}"));
    let columns: Vec<&str> = line.split("  ").map(str::trim).filter(|c| !c.is_empty()).collect();
    columns[1..].iter().map(|c| (*c).to_owned()).collect()
}

fn version_prints_the_crate_version() {
    let output = run(&["--version"], &[]);
    assert!(output.status.success());
    assert_eq!(stdout(&output), format!("municipal-kpi {}\n", env!("CARGO_PKG_VERSION")));
}

fn config_check_prints_every_setting_with_its_source_and_no_secret() {
    let output = run(
        &["config", "check", "--token-ttl-minutes", "30"],
        &[
            ("JWT_SECRET", SECRET),
            ("DB_READ_POOL_SIZE", "7"),
            ("DATABASE_URL", "postgres://kpi:hunter2-db-password@db.example/municipal_kpi"),
        ],
    );
    let text = stdout(&output);
    assert!(output.status.success(), "{text}{}", stderr(&output));
    assert_eq!(setting_line(&text, "DB_READ_POOL_SIZE"), ["7", "environment"]);
    assert_eq!(setting_line(&text, "TOKEN_TTL_MINUTES"), ["30", "command line"]);
    assert_eq!(setting_line(&text, "BIND_ADDR"), ["127.0.0.1:8080", "default"]);
    assert_eq!(setting_line(&text, "LOG_LEVEL"), ["info", "default"]);
    assert_eq!(setting_line(&text, "METRICS_TOKEN"), ["(not set)", "-"]);
    assert_eq!(
        setting_line(&text, "JWT_SECRET"),
        [format!("(redacted, {} bytes)", SECRET.len()), "environment".into()]
    );
    assert!(!text.contains(SECRET) && !text.contains("hunter2"), "{text}");
    assert!(text.ends_with("the configuration is valid\n"));
}

fn config_check_fails_with_a_clear_message_on_an_invalid_setting() {
    let cases: [(&[(&str, &str)], &str); 5] = [
        (&[], "JWT_SECRET must be set"),
        (&[("JWT_SECRET", "too-short")], "JWT_SECRET must be at least 32 bytes"),
        (&[("JWT_SECRET", SECRET), ("METRICS_ENABLED", "true")], "needs METRICS_TOKEN"),
        (&[("JWT_SECRET", SECRET), ("CORS_ALLOWED_ORIGINS", "not an origin")], "CORS_ALLOWED_ORIGINS"),
        (&[("JWT_SECRET", SECRET), ("DB_READ_POOL_SIZE", "0")], "expected a number of connections from 1 to"),
    ];
    for (env, message) in cases {
        let output = run(&["config", "check"], env);
        assert!(!output.status.success(), "{env:?} passed");
        assert!(stderr(&output).contains(message), "{env:?}: {}", stderr(&output));
    }
}

fn completions_are_printed_for_each_shell() {
    for (shell, marker) in [
        ("bash", "complete -F _municipal__kpi"),
        ("zsh", "#compdef municipal-kpi"),
        ("fish", "complete -c municipal-kpi"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let output = run(&["completions", shell], &[]);
        assert!(output.status.success(), "{shell}");
        let script = stdout(&output);
        assert!(script.contains(marker), "{shell}: {}", &script[..script.len().min(300)]);
        assert!(script.contains("config") && script.contains("serve"), "{shell} knows the subcommands");
    }
    assert!(!run(&["completions", "tcsh"], &[]).status.success());
}

/// The command line's flags meet the bounds a body's fields meet, before any database is opened.
fn user_flags_keep_the_bounds_of_the_api() {
    let long_code = "u".repeat(65);
    let long_name = "名".repeat(201);
    let cases = [
        (vec!["user", "create", "--username", long_code.as_str(), "--role", "hq"], "at most 64 characters"),
        (
            vec!["user", "create", "--username", "ok", "--role", "hq", "--display-name", long_name.as_str()],
            "at most 200",
        ),
        (
            vec!["user", "create", "--username", "ok", "--role", "hq", "--municipality", long_code.as_str()],
            "at most 64",
        ),
    ];
    // A database URL nobody can reach: the flags are refused before it would be used.
    let env = [("DATABASE_URL", "postgres://nobody@127.0.0.1:9/none"), ("JWT_SECRET", SECRET)];
    for (args, message) in cases {
        let output = run(&args, &env);
        assert!(!output.status.success(), "{args:?} passed");
        assert!(stderr(&output).contains(message), "{args:?}: {}", stderr(&output));
    }
}

/// An operator's mistake in DATABASE_URL is one line naming the cause and the setting, with no
/// colour codes in a pipe, and a non-zero exit.
fn a_database_that_cannot_be_opened_is_one_plain_line() {
    for (url, cause) in [
        ("postgres://postgres@127.0.0.1:5432/municipal_kpi_does_not_exist", "does not exist"),
        ("postgres://nobody@127.0.0.1:9/none", "Connection refused"),
    ] {
        let output = run(&["migrate"], &[("DATABASE_URL", url)]);
        assert!(!output.status.success(), "{url} migrated");
        let stderr = stderr(&output);
        assert_eq!(stderr.trim_end().lines().count(), 1, "{url}: {stderr}");
        assert!(stderr.contains("DATABASE_URL") && stderr.contains(cause), "{url}: {stderr}");
        assert!(!stderr.contains('\u{1b}'), "no colour codes into a pipe: {stderr:?}");
    }
}

/// A city's first start on an empty database: its municipality and first admin in one command,
/// with a clear message for each mistake; a mistake leaves nothing behind.
fn the_first_municipality_and_its_admin_in_one_command() {
    let dir = std::env::temp_dir().join(format!("mkpi-first-start-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let url = format!("sqlite://{}/first.db", dir.display());
    let env = [("DATABASE_URL", url.as_str())];
    let create = |extra: &[&str], password: &str| {
        let mut args = vec!["user", "create", "--username", "admin", "--role", "admin"];
        args.extend_from_slice(extra);
        let mut child = Command::new(env!("CARGO_BIN_EXE_municipal-kpi"))
            .env_clear()
            .envs(env)
            .args(&args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("the binary runs");
        use std::io::Write;
        child.stdin.take().expect("stdin").write_all(format!("{password}\n").as_bytes()).expect("password");
        child.wait_with_output().expect("exits")
    };
    let municipality = ["--municipality", "131199", "--municipality-name", "板橋区"];
    let cases: [(&[&str], &str, &str); 4] = [
        (&[], "a long admin password", "name the municipality"),
        (&["--municipality", "131199"], "a long admin password", "add --municipality-name"),
        (&["--municipality", "131190", "--municipality-name", "板橋区"], "a long admin password", "check digit"),
        (&municipality, "short", "at least 12 characters"),
    ];
    for (extra, password, message) in cases {
        let output = create(extra, password);
        assert!(!output.status.success(), "{extra:?} passed");
        assert!(stderr(&output).contains(message), "{extra:?}: {}", stderr(&output));
    }
    let created = create(&municipality, "a long admin password");
    assert!(created.status.success(), "{}", stderr(&created));
    assert!(stdout(&created).contains("created user admin"), "{}", stdout(&created));
    let again = create(&municipality, "a long admin password");
    assert!(!again.status.success() && stderr(&again).contains("already exists"), "{}", stderr(&again));
    std::fs::remove_dir_all(&dir).ok();
}
