//! Crontab lines for Debian's cron (Vixie cron): one file, `integ.crontab`, for every
//! scheduled integration.

use crate::schedule::{Entry, Fields, Target, UnitFile, Written, same_zone};

pub(crate) const FILE: &str = "integ.crontab";

/// Debian cron reads numbers, names, `*`, ranges, lists and steps, nothing of croner's more.
pub(super) fn portable(fields: &Fields) -> Result<(), String> {
    for field in fields.all() {
        if let Some(sign) = field
            .chars()
            .find(|c| matches!(c, 'L' | 'l' | 'W' | 'w' | '#' | '?'))
        {
            // Month and weekday names hold letters: only the bare signs are croner's own.
            let named = field
                .split([',', '-', '/'])
                .all(|item| item.len() == 3 && item.chars().all(|c| c.is_ascii_alphabetic()));
            if !named || sign == '#' || sign == '?' {
                return Err(format!("`{sign}` is not read by Debian cron"));
            }
        }
    }
    Ok(())
}

pub(super) fn write(entries: &[Entry], target: &Target) -> Written {
    let mut written = Written::default();
    let install = match &target.user {
        Some(user) => format!(
            "# Install it as root with `crontab -u {user} {FILE}` (this replaces {user}'s crontab): the runs\n\
             # run as `{user}`, like every other user of their state directory. With `-q` integ prints\n\
             # nothing on success, so cron mails only failures:\n"
        ),
        None => format!(
            "# Install it with `crontab {FILE}` (this replaces your crontab) or paste the lines into\n\
             # `crontab -e`. With `-q` integ prints nothing on success, so cron mails only failures:\n"
        ),
    };
    let mut text = format!(
        "# {FILE}: written by `integ schedule --format crontab`.\n\
         {install}\
         # set MAILTO to where they should go (and install a mail transfer agent), e.g.\n\
         # MAILTO=admin@example.com\n"
    );
    let machine = target.machine_zone.as_deref();
    for entry in entries {
        let name = &entry.integration.name;
        text.push('\n');
        let own = entry
            .integration
            .schedule
            .as_ref()
            .and_then(|schedule| schedule.timezone);
        match (own, machine) {
            (Some(zone), Some(machine)) if same_zone(zone.name(), machine) => {
                text.push_str(&format!("# `{name}`: zone {machine}, the machine's\n"));
            }
            (Some(zone), _) => {
                let machine = machine.unwrap_or("unknown");
                let warning = format!(
                    "`{name}` reads its schedule in `{}`, but cron reads crontab times in the machine's zone (`{machine}`), and Debian cron has no `CRON_TZ`: rewrite `{}` for the machine's zone, or use `--format systemd`",
                    zone.name(),
                    entry.expression
                );
                text.push_str(&format!(
                    "# `{name}`: zone {}\n# warning: cron reads this line in the machine's zone ({machine}), and Debian cron has no CRON_TZ\n",
                    zone.name()
                ));
                written.warnings.push(warning);
            }
            (None, zone) => {
                text.push_str(&format!(
                    "# `{name}`: zone {}, the machine's\n",
                    zone.unwrap_or("unknown")
                ));
            }
        }
        let command = target
            .argv(name)
            .iter()
            .map(|arg| shell_word(arg))
            .collect::<Vec<_>>()
            .join(" ");
        text.push_str(&format!(
            "{} {}\n",
            entry.expression,
            escape_percent(&command)
        ));
    }
    written.files.push(UnitFile {
        name: FILE.to_owned(),
        text,
    });
    written
}

/// A word for `/bin/sh`, which cron runs the line with.
fn shell_word(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:@%+,".contains(c));
    if plain {
        arg.to_owned()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

/// cron turns an unescaped `%` into a newline and feeds the rest to stdin (crontab(5)).
fn escape_percent(command: &str) -> String {
    command.replace('%', r"\%")
}

#[cfg(test)]
mod tests {
    use super::{escape_percent, portable, shell_word};
    use crate::schedule::Fields;

    #[test]
    fn percent_signs_are_escaped_for_cron() {
        assert_eq!(
            escape_percent(&shell_word("/srv/100% sure/integ")),
            r"'/srv/100\% sure/integ'"
        );
        assert_eq!(shell_word("it's"), r"'it'\''s'");
    }

    #[test]
    fn names_pass_but_croner_signs_are_refused() {
        assert!(portable(&Fields::parse("0 9 * jul mon-fri").unwrap()).is_ok());
        for expression in ["0 9 L * *", "0 9 15W * *", "0 9 * * 5#2"] {
            let err = portable(&Fields::parse(expression).unwrap()).unwrap_err();
            assert!(
                err.contains("not read by Debian cron"),
                "{expression}: {err}"
            );
        }
    }
}
