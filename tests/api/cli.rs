//! The command line as an operator runs it: the built binary, with a controlled environment.
//! None of these commands opens a database but a temporary one of its own.

use std::process::{Command, Output};

crate::sync_tests!(
    version_prints_the_crate_version,
    config_check_prints_every_setting_with_its_source_and_no_secret,
    config_check_fails_with_a_clear_message_on_an_invalid_setting,
    completions_are_printed_for_each_shell,
    user_flags_keep_the_bounds_of_the_api,
    a_database_that_cannot_be_opened_is_one_plain_line,
    an_unwritable_sqlite_directory_is_one_plain_line,
    the_first_municipality_and_its_admin_in_one_command,
    a_national_edition_is_imported_from_a_file_under_the_api_checks,
    the_server_bounds_mallocs_thread_caches_as_the_same_process,
);
crate::postgres_tests!(a_database_that_does_not_exist_is_one_plain_line);

const SECRET: &str = "a-jwt-secret-of-at-least-32-bytes-for-the-cli-test";

pub fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_municipal-kpi"));
    // Only the settings a test names: the developer's own DATABASE_URL or JWT_SECRET must not leak in.
    command.env_clear().args(args);
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().expect("the binary runs")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("UTF-8")
}

pub fn stderr(output: &Output) -> String {
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

/// Every command that opens the database, with what it needs besides.
const DATABASE_COMMANDS: [&[&str]; 6] = [
    &["migrate"],
    &["demo"],
    &["synthetic", "--scale", "1"],
    &["user", "create", "--username", "admin", "--role", "admin"],
    &["generate", "nationwide", "--municipalities", "1", "--years", "1", "--runs", "0"],
    &["serve", "--bind", "127.0.0.1:0"],
];

/// The command as an operator would run it in a pipe (no terminal), as `user` when given.
fn run_database_command(args: &[&str], url: &str, user: Option<u32>) -> Output {
    use std::os::unix::process::CommandExt;
    let binary = match user {
        Some(_) => binary_reachable_by_anyone(),
        None => std::path::PathBuf::from(env!("CARGO_BIN_EXE_municipal-kpi")),
    };
    let mut command = Command::new(binary);
    command.env_clear().env("DATABASE_URL", url).env("JWT_SECRET", SECRET).args(args);
    command.stdin(std::process::Stdio::null());
    if let Some(uid) = user {
        command.uid(uid).gid(uid);
    }
    command.output().expect("the binary runs")
}

/// A copy of the binary another user can run: the checkout may sit in a directory only its owner
/// can enter (a clone into `mktemp -d`, mode 700).
fn binary_reachable_by_anyone() -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("mkpi-binary-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir(&dir).expect("a directory for the binary");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("dir mode");
    let binary = dir.join("municipal-kpi");
    std::fs::copy(env!("CARGO_BIN_EXE_municipal-kpi"), &binary).expect("a copy of the binary");
    std::fs::set_permissions(&binary, std::fs::Permissions::from_mode(0o755)).expect("binary mode");
    binary
}

/// A failure to open the database: one line, naming the setting and the cause, without colour
/// codes or the password, and a non-zero exit.
fn assert_one_plain_line(output: &Output, what: &str, cause: &str) {
    let stderr = stderr(output);
    assert!(!output.status.success(), "{what} succeeded: {}{stderr}", stdout(output));
    assert_eq!(stderr.trim_end().lines().count(), 1, "{what}: {stderr}");
    assert!(stderr.contains("DATABASE_URL") && stderr.contains(cause), "{what}: {stderr}");
    assert!(!stderr.contains('\u{1b}'), "no colour codes into a pipe: {stderr:?}");
    assert!(!stderr.contains(PASSWORD), "{what} shows the password: {stderr}");
}

const PASSWORD: &str = "hunter2-database-password";

/// An operator's mistake in DATABASE_URL, whichever command meets it: a refused password, a host
/// where nothing listens, a host that never answers.
fn a_database_that_cannot_be_opened_is_one_plain_line() {
    let refusing = RefusingPostgres::start(DATABASE_COMMANDS.len());
    let refused_password = format!("postgres://kpi:{PASSWORD}@127.0.0.1:{}/municipal_kpi", refusing.port);
    let nothing_listens = format!("postgres://kpi:{PASSWORD}@127.0.0.1:9/municipal_kpi");
    for args in DATABASE_COMMANDS {
        let output = run_database_command(args, &refused_password, None);
        assert_one_plain_line(&output, &format!("{args:?}, a wrong password"), "password authentication failed");
        let output = run_database_command(args, &nothing_listens, None);
        assert_one_plain_line(&output, &format!("{args:?}, nothing listening"), "Connection refused");
    }
    // Accepts and never answers, like a host behind a firewall that drops: libpq's connect
    // timeout (DB_CONNECT_TIMEOUT_SECS) ends the wait, not the pool's checkout timeout.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let silent_url = format!("postgres://kpi:{PASSWORD}@{}/municipal_kpi", silent.local_addr().expect("address"));
    let output = run_database_command(&["migrate"], &silent_url, None);
    assert_one_plain_line(&output, "migrate, a host that never answers", "timeout expired");
}

/// The database named in DATABASE_URL does not exist on a server that does.
async fn a_database_that_does_not_exist_is_one_plain_line() {
    let admin = crate::helpers::admin_url();
    let (server, _) = admin.rsplit_once('/').expect("URL ends in /DATABASE");
    let url = format!("{server}/mkpi_does_not_exist_{}", uuid::Uuid::new_v4().simple());
    for args in DATABASE_COMMANDS {
        let output = run_database_command(args, &url, None);
        assert_one_plain_line(&output, &format!("{args:?}"), "does not exist");
    }
}

/// The SQLite data directory (a bind mount in a container) must be writable by the user the
/// server runs as; when it is not, every command says so in one line. Run as root, the commands
/// run as `nobody`, since root may write anywhere.
fn an_unwritable_sqlite_directory_is_one_plain_line() {
    use std::os::unix::fs::PermissionsExt;
    let root = std::env::temp_dir().join(format!("mkpi-data-dir-{}", uuid::Uuid::new_v4().simple()));
    let data = root.join("data");
    std::fs::create_dir_all(&data).expect("data dir");
    std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o555)).expect("chmod");
    let privileged = std::fs::write(data.join("probe"), b"").is_ok();
    let user = privileged.then_some(NOBODY);
    for (url, cause) in [
        (format!("sqlite://{}/municipal-kpi.db", data.display()), "is not writable"),
        (format!("sqlite://{}/sub/municipal-kpi.db", data.display()), "cannot create the SQLite data directory"),
    ] {
        for args in DATABASE_COMMANDS {
            let output = run_database_command(args, &url, user);
            assert_one_plain_line(&output, &format!("{args:?} {url}"), cause);
        }
    }
    // Writable for that user, the same directory works, and the check leaves nothing behind.
    std::fs::remove_file(data.join("probe")).ok();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let url = format!("sqlite://{}/municipal-kpi.db", data.display());
    let migrated = run_database_command(&["migrate"], &url, user);
    assert!(migrated.status.success(), "{}", stderr(&migrated));
    let mut left: Vec<String> = std::fs::read_dir(&data)
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into())
        .collect();
    left.retain(|name| !name.starts_with("municipal-kpi.db"));
    assert!(left.is_empty(), "left in the data directory: {left:?}");
    std::fs::remove_dir_all(&root).ok();
}

/// The unprivileged account of Debian and most other systems.
const NOBODY: u32 = 65534;

/// A PostgreSQL server as a client sees it before logging in: it asks for the password and
/// refuses it as a server with password authentication does (FATAL, SQLSTATE 28P01), for
/// `connections` clients. Just enough of the protocol to make libpq report a wrong password.
struct RefusingPostgres {
    port: u16,
}

impl RefusingPostgres {
    fn start(connections: usize) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("address").port();
        std::thread::spawn(move || {
            for stream in listener.incoming().take(connections) {
                let _ = stream.and_then(Self::refuse);
            }
        });
        Self { port }
    }

    fn refuse(mut stream: std::net::TcpStream) -> std::io::Result<()> {
        use std::io::{Read, Write};
        let read_packet = |stream: &mut std::net::TcpStream| -> std::io::Result<Vec<u8>> {
            let mut length = [0u8; 4];
            stream.read_exact(&mut length)?;
            let mut body = vec![0u8; (u32::from_be_bytes(length) as usize).saturating_sub(4)];
            stream.read_exact(&mut body)?;
            Ok(body)
        };
        // SSLRequest and GSSENCRequest (codes 80877103, 80877104) are declined with 'N'.
        while matches!(read_packet(&mut stream)?.get(..4), Some([4, 210, 22, 47 | 48])) {
            stream.write_all(b"N")?;
        }
        stream.write_all(&[b'R', 0, 0, 0, 8, 0, 0, 0, 3])?; // AuthenticationCleartextPassword
        let mut tag = [0u8; 1];
        stream.read_exact(&mut tag)?; // 'p': the password
        read_packet(&mut stream)?;
        let fields = b"SFATAL\0VFATAL\0C28P01\0Mpassword authentication failed for user \"kpi\"\0\0";
        let mut error = vec![b'E'];
        error.extend_from_slice(&(4 + fields.len() as u32).to_be_bytes());
        error.extend_from_slice(fields);
        stream.write_all(&error)
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

/// `national-edition import FILE` appends an edition under the checks of `POST /national-editions`.
fn a_national_edition_is_imported_from_a_file_under_the_api_checks() {
    let dir = std::env::temp_dir().join(format!("mkpi-edition-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let url = format!("sqlite://{}/editions.db", dir.display());
    let env = [("DATABASE_URL", url.as_str())];
    let file = dir.join("edition.json");
    let edition = |issued: &str| {
        serde_json::json!({
            "code": "9.9", "name": "試験用の版", "issued": issued, "source": "試験用の入力",
            "items": [{"number": 1, "name": "テレワークの推進", "continues": 7}],
        })
    };
    std::fs::write(&file, edition("2023-12").to_string()).expect("write");
    let refused = run(&["national-edition", "import", file.to_str().unwrap()], &env);
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("issued"), "{}", stderr(&refused));
    std::fs::write(&file, edition("2025-04").to_string()).expect("write");
    let imported = run(&["national-edition", "import", file.to_str().unwrap()], &env);
    assert!(imported.status.success(), "{}", stderr(&imported));
    assert!(stdout(&imported).contains("imported edition 9.9 with 1 item(s)"));
    std::fs::remove_dir_all(&dir).ok();
}

/// glibc reads its thread cache bounds only from the environment a process starts with: the
/// binary starts itself again with them (src/heap.rs), keeping its process id, so a supervisor
/// still holds the server it started.
fn the_server_bounds_mallocs_thread_caches_as_the_same_process() {
    if !cfg!(all(target_os = "linux", target_env = "gnu")) {
        return;
    }
    let dir = std::env::temp_dir().join(format!("municipal-kpi-tcache-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary directory");
    let mut server = Command::new(env!("CARGO_BIN_EXE_municipal-kpi"))
        .env_clear()
        .arg("serve")
        .env("DATABASE_URL", format!("sqlite://{}/kpi.db", dir.display()))
        .env("BIND_ADDR", "127.0.0.1:0")
        .env("JWT_SECRET", SECRET)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("serve starts");
    let environ = std::path::PathBuf::from(format!("/proc/{}/environ", server.id()));
    let wanted = format!("GLIBC_TUNABLES={}", municipal_kpi::heap::THREAD_CACHE_TUNABLES);
    let mut seen = String::new();
    for _ in 0..300 {
        seen = String::from_utf8_lossy(&std::fs::read(&environ).unwrap_or_default()).replace('\0', " ");
        if seen.split(' ').any(|variable| variable == wanted) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let still_running = server.try_wait().expect("status").is_none();
    let _ = server.kill();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(still_running, "serve stopped");
    assert!(seen.split(' ').any(|variable| variable == wanted), "the server's environment: {seen}");
}
