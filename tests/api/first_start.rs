//! The README's first start, run as written: the shell lines of its block in bash, with the built
//! binary for `cargo run --release --` and a fresh database of each backend for `DATABASE_URL`;
//! then the admin it created logs in. And each `user create` line of the container block, with
//! the binary itself against an empty database, as the container would run it.

use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};

use crate::helpers::{Backend, TestDatabase};
use crate::on_both_backends;

on_both_backends!(the_readmes_first_start_works_as_written, the_readmes_container_accounts_can_be_created);

const BINARY: &str = env!("CARGO_BIN_EXE_municipal-kpi");
const SECRET: &str = "a-jwt-secret-of-at-least-32-bytes-for-the-first-start";

/// The lines of the shell block between `<!-- NAME:start -->` and `<!-- NAME:end -->`.
fn readme_block(name: &str) -> Vec<String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README.md");
    let start = readme.find(&format!("<!-- {name}:start -->")).expect("start marker");
    let end = readme.find(&format!("<!-- {name}:end -->")).expect("end marker");
    readme[start..end]
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with("<!--") && !line.starts_with("```"))
        .map(str::to_owned)
        .collect()
}

/// The word after `flag` in a command line.
fn argument<'a>(line: &'a str, flag: &str) -> &'a str {
    let mut words = line.split_whitespace();
    words.find(|word| *word == flag).and_then(|_| words.next()).unwrap_or_else(|| panic!("no {flag}: {line}"))
}

/// The password a line pipes in: `printf '%s\n' 'PASSWORD' | …`.
fn piped_password(line: &str) -> &str {
    let (_, rest) = line.split_once("printf '%s\\n' '").unwrap_or_else(|| panic!("no piped password: {line}"));
    rest.split_once('\'').expect("closing quote").0
}

/// A `bash` running one README line with exactly this environment (and `PATH`).
fn bash(line: &str, env: &[(String, String)]) -> Command {
    let mut command = Command::new("bash");
    command.env_clear().env("PATH", std::env::var("PATH").unwrap_or_default());
    command.envs(env.iter().map(|(name, value)| (name.as_str(), value.as_str())));
    command.args(["-c", &format!("set -euo pipefail\n{line}")]);
    command
}

/// The server the block starts, stopped when the test ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A port nobody listens on now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("address").port()
}

/// Waits until the server answers `/readyz`, or fails with what it said if it stops first.
async fn wait_until_ready(server: &mut Server, base: &str, log: &std::path::Path) {
    let client = reqwest::Client::new();
    for _ in 0..600 {
        if let Some(status) = server.0.try_wait().expect("server status") {
            panic!("serve stopped ({status}): {}", std::fs::read_to_string(log).unwrap_or_default());
        }
        if client.get(format!("{base}/readyz")).send().await.is_ok_and(|r| r.status().is_success()) {
            return;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("serve was not ready after a minute: {}", std::fs::read_to_string(log).unwrap_or_default());
}

async fn the_readmes_first_start_works_as_written(backend: Backend) {
    let database = TestDatabase::create(backend);
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let log = std::env::temp_dir().join(format!("mkpi-first-start-{}.log", uuid::Uuid::new_v4().simple()));
    let mut env = vec![("BIND_ADDR".to_owned(), format!("127.0.0.1:{port}"))];
    let mut server = None;
    let mut admin = None;
    for line in readme_block("first-start") {
        if let Some(assignments) = line.strip_prefix("export ") {
            // The test's own values for what the block exports; a setting it does not know fails.
            for name in assignments.split_whitespace().filter_map(|word| word.split_once('=')).map(|(name, _)| name) {
                let value = match name {
                    "DATABASE_URL" => database.url.clone(),
                    "JWT_SECRET" => SECRET.to_owned(),
                    other => panic!("the README exports {other}, which this test gives no value"),
                };
                env.push((name.to_owned(), value));
            }
            continue;
        }
        let command = line.replace("cargo run --release --", &format!("'{BINARY}'"));
        assert_ne!(command, line, "a line that does not run the binary: {line}");
        if line.ends_with(" serve") {
            let output = std::fs::File::create(&log).expect("log file");
            let child = bash(&command, &env)
                .stdin(Stdio::null())
                .stdout(output.try_clone().expect("log"))
                .stderr(output)
                .spawn()
                .expect("bash runs");
            server = Some(Server(child));
            continue;
        }
        let output = bash(&command, &env).stdin(Stdio::null()).output().expect("bash runs");
        assert!(output.status.success(), "{line}: {}", String::from_utf8_lossy(&output.stderr));
        if line.contains(" user create ") {
            admin = Some((argument(&line, "--username").to_owned(), piped_password(&line).to_owned(), line.clone()));
        }
    }
    let mut server = server.expect("the block starts the server");
    let (username, password, create_line) = admin.expect("the block creates an account");
    wait_until_ready(&mut server, &base, &log).await;

    let client = reqwest::Client::new();
    let login = client
        .post(format!("{base}/api/v1/auth/token"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .expect("login");
    assert_eq!(login.status(), 200, "the README's admin logs in");
    let token = login.json::<Value>().await.expect("token")["access_token"].as_str().expect("access_token").to_owned();
    let me: Value = client
        .get(format!("{base}/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("me")
        .json()
        .await
        .expect("JSON");
    assert_eq!(me["user"]["role"], argument(&create_line, "--role"), "{me}");
    let municipalities: Value = client
        .get(format!("{base}/api/v1/municipalities"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("municipalities")
        .json()
        .await
        .expect("JSON");
    let registered = &municipalities["items"][0];
    assert_eq!(municipalities["total"], 1, "{municipalities}");
    assert_eq!(registered["code"], argument(&create_line, "--municipality"), "{municipalities}");
    assert_eq!(registered["name"], argument(&create_line, "--municipality-name"), "{municipalities}");
    assert_eq!(me["user"]["municipality_id"], registered["id"], "{me}");
    std::fs::remove_file(&log).ok();
}

/// The container block's `user create` lines, run as the container runs them: the compose one
/// against the backend's empty database, the `docker run` one against an empty SQLite file, as
/// in the image's volume. The account then logs in with the password piped in.
async fn the_readmes_container_accounts_can_be_created(backend: Backend) {
    let lines: Vec<String> =
        readme_block("container").into_iter().filter(|line| line.contains(" user create ")).collect();
    assert_eq!(lines.len(), 2, "a compose and a docker run line: {lines:?}");
    for line in lines {
        let database = TestDatabase::create(if line.contains("docker compose") { backend } else { Backend::Sqlite });
        let (_, arguments) = line.split_once(" user create ").expect("user create");
        let command = format!("printf '%s\\n' '{}' | '{BINARY}' user create {arguments}", piped_password(&line));
        let env = [("DATABASE_URL".to_owned(), database.url.clone())];
        let output = bash(&command, &env).stdin(Stdio::null()).output().expect("bash runs");
        assert!(output.status.success(), "{line}: {}", String::from_utf8_lossy(&output.stderr));

        let db = municipal_kpi::db::Database::connect(&database.url, 1).expect("open");
        let username = argument(&line, "--username").to_owned();
        let login = db
            .read_blocking(move |conn| {
                municipal_kpi::db::users::find_login(conn, municipal_kpi::db::users::LoginScope::Anywhere, &username, 2)
            })
            .expect("read");
        assert_eq!(login.len(), 1, "{line}");
        let verified = municipal_kpi::auth::password::verify_password(piped_password(&line), &login[0].password_hash);
        assert!(verified, "the piped password is the account's: {line}");
    }
}
