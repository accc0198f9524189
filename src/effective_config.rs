//! The effective configuration of a command, as `municipal-kpi config check` prints it: every
//! setting with its value and where the value came from, secrets redacted.

use clap::parser::ValueSource;
use clap::{ArgMatches, Command};

use crate::db::DatabaseUrl;

/// Settings whose values are never printed, only their length.
const SECRET_SETTINGS: &[&str] = &["jwt_secret", "metrics_token"];

/// Settings that may hold a password inside a URL, printed with it redacted.
const URL_SETTINGS: &[&str] = &["database_url"];

/// One setting: its name as an operator sets it, its printable value, and its source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    /// The environment variable, or the flag for a setting that has none.
    pub name: String,
    pub value: String,
    pub source: &'static str,
}

/// Every argument of `command` (global ones included), valued from `matches`.
pub fn settings(command: &Command, matches: &ArgMatches) -> Vec<Setting> {
    command
        .get_arguments()
        .filter(|arg| !matches!(arg.get_id().as_str(), "help" | "version"))
        .map(|arg| {
            let id = arg.get_id().as_str();
            let name = match (arg.get_env(), arg.get_long()) {
                (Some(env), _) => env.to_string_lossy().into_owned(),
                (None, Some(long)) => format!("--{long}"),
                (None, None) => id.to_owned(),
            };
            let raw: Option<Vec<String>> =
                matches.get_raw(id).map(|values| values.map(|value| value.to_string_lossy().into_owned()).collect());
            let value = match raw {
                None => "(not set)".to_owned(),
                Some(values) => printable(id, &values.join(",")),
            };
            Setting { name, value, source: source_name(matches.value_source(id)) }
        })
        .collect()
}

fn printable(id: &str, value: &str) -> String {
    if SECRET_SETTINGS.contains(&id) {
        format!("(redacted, {} bytes)", value.len())
    } else if URL_SETTINGS.contains(&id) {
        DatabaseUrl::parse(value).map(|url| url.redacted()).unwrap_or_else(|_| "(redacted: not a valid URL)".into())
    } else if value.is_empty() {
        "(empty)".to_owned()
    } else {
        value.to_owned()
    }
}

fn source_name(source: Option<ValueSource>) -> &'static str {
    match source {
        Some(ValueSource::CommandLine) => "command line",
        Some(ValueSource::EnvVariable) => "environment",
        Some(ValueSource::DefaultValue) => "default",
        _ => "-",
    }
}

/// The settings as an aligned table with a header line.
pub fn render(settings: &[Setting]) -> String {
    let name_width = settings.iter().map(|s| s.name.len()).max().unwrap_or(0).max("setting".len());
    let value_width = settings.iter().map(|s| s.value.chars().count()).max().unwrap_or(0).max("value".len());
    let mut out = format!("{:<name_width$}  {:<value_width$}  source\n", "setting", "value");
    for setting in settings {
        let padding = value_width - setting.value.chars().count();
        out.push_str(&format!(
            "{:<name_width$}  {}{}  {}\n",
            setting.name,
            setting.value,
            " ".repeat(padding),
            setting.source
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use clap::Arg;

    use super::*;

    fn command() -> Command {
        Command::new("t")
            .arg(Arg::new("database_url").long("database-url").env("T_DATABASE_URL").default_value("sqlite://x.db"))
            .arg(Arg::new("jwt_secret").long("jwt-secret").env("T_JWT_SECRET"))
            .arg(Arg::new("bind").long("bind").env("T_BIND").default_value("127.0.0.1:8080"))
            .arg(Arg::new("origins").long("origins").default_value(""))
    }

    fn setting<'a>(settings: &'a [Setting], name: &str) -> &'a Setting {
        settings.iter().find(|s| s.name == name).unwrap()
    }

    #[test]
    fn each_setting_names_its_source_and_secrets_are_redacted() {
        let command = command();
        let matches = command.clone().get_matches_from([
            "t",
            "--jwt-secret",
            "0123456789abcdef0123456789abcdef",
            "--database-url",
            "postgres://kpi:hunter2@db/kpi",
        ]);
        let settings = settings(&command, &matches);
        assert_eq!(setting(&settings, "T_BIND").value, "127.0.0.1:8080");
        assert_eq!(setting(&settings, "T_BIND").source, "default");
        assert_eq!(setting(&settings, "T_JWT_SECRET").value, "(redacted, 32 bytes)");
        assert_eq!(setting(&settings, "T_JWT_SECRET").source, "command line");
        assert!(!setting(&settings, "T_DATABASE_URL").value.contains("hunter2"));
        assert_eq!(setting(&settings, "--origins").value, "(empty)");
    }

    #[test]
    fn an_unset_optional_setting_says_so() {
        let command = command();
        let settings = settings(&command, &command.clone().get_matches_from(["t"]));
        assert_eq!(setting(&settings, "T_JWT_SECRET").value, "(not set)");
        assert_eq!(setting(&settings, "T_JWT_SECRET").source, "-");
    }

    #[test]
    fn the_table_aligns_its_columns() {
        let table = render(&[
            Setting { name: "A".into(), value: "値".into(), source: "default" },
            Setting { name: "LONGER".into(), value: "xyz".into(), source: "environment" },
        ]);
        assert_eq!(table, "setting  value  source\nA        値      default\nLONGER   xyz    environment\n");
    }
}
