//! systemd units: `integ-NAME.service` runs the integration once, `integ-NAME.timer` starts it
//! on its schedule, in its zone.

use crate::schedule::{Entry, Target, UnitFile, Written, whole_seconds};

/// What systemd allows beyond the integration's own `timeout` before it stops the run: integ
/// then still records the end.
const GRACE_SECS: u64 = 30;

pub(super) fn write(entries: &[Entry], target: &Target) -> Written {
    let mut written = Written::default();
    for entry in entries {
        let name = &entry.integration.name;
        written.files.push(UnitFile {
            name: format!("integ-{name}.service"),
            text: service(entry, target),
        });
        written.files.push(UnitFile {
            name: format!("integ-{name}.timer"),
            text: timer(entry),
        });
    }
    written
}

fn service(entry: &Entry, target: &Target) -> String {
    let name = &entry.integration.name;
    let exec = target
        .argv(name)
        .iter()
        .map(|arg| unit_word(arg))
        .collect::<Vec<_>>()
        .join(" ");
    let timeout = match entry.integration.timeout {
        Some(timeout) => format!(
            "# The integration's `timeout`, and {GRACE_SECS}s for integ to record the end.\n\
             TimeoutStartSec={}s",
            whole_seconds(timeout) + GRACE_SECS
        ),
        None => format!(
            "# `{name}` has no `timeout`: the run may take as long as it needs.\nTimeoutStartSec=infinity"
        ),
    };
    let dir =
        |path: &std::path::Path, prefix: &str| unit_word(&format!("{prefix}{}", path.display()));
    let config_dir = target.config.parent().unwrap_or(std::path::Path::new("/"));
    let writable = format!("{} {}", dir(&target.state_dir, "-"), dir(config_dir, "-"));
    let config_dir = dir(config_dir, "");
    let user = match &target.user {
        // Every process that uses one state directory runs as one user: files one creates there
        // (a lock, the WAL) the others could not open.
        Some(user) => format!(
            "# Runs as `{user}`, like every other user of its state directory.\nUser={user}\n"
        ),
        None => String::new(),
    };
    format!(
        "# integ-{name}.service: written by `integ schedule --format systemd`; integ-{name}.timer\n\
         # starts it. Copy both to /etc/systemd/system (or ~/.config/systemd/user), then run\n\
         # `systemctl daemon-reload && systemctl enable --now integ-{name}.timer`.\n\
         [Unit]\n\
         Description=integ: run `{name}` on its schedule\n\
         Wants=network-online.target\n\
         After=network-online.target\n\
         \n\
         [Service]\n\
         Type=oneshot\n\
         {user}\
         WorkingDirectory={config_dir}\n\
         ExecStart={exec}\n\
         # 75: skipped, another run of `{name}` holds its lock; it is recorded, and not a failure.\n\
         SuccessExitStatus=75\n\
         {timeout}\n\
         # Hardening that still lets command steps run programs (JIT runtimes such as node and\n\
         # java too: no MemoryDenyWriteExecute=, no SystemCallFilter=), reach the network and\n\
         # write below the integrations file's directory and the state directory. List more\n\
         # paths your steps write in ReadWritePaths=.\n\
         ReadWritePaths={writable}\n\
         ProtectSystem=strict\n\
         ProtectHome=read-only\n\
         PrivateTmp=yes\n\
         PrivateDevices=yes\n\
         NoNewPrivileges=yes\n\
         ProtectKernelTunables=yes\n\
         ProtectKernelModules=yes\n\
         ProtectKernelLogs=yes\n\
         ProtectControlGroups=yes\n\
         ProtectClock=yes\n\
         ProtectHostname=yes\n\
         RestrictRealtime=yes\n\
         RestrictSUIDSGID=yes\n\
         LockPersonality=yes\n\
         ProtectProc=invisible\n\
         RestrictNamespaces=yes\n\
         SystemCallArchitectures=native\n\
         RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK\n\
         # A run needs no privileges; one that does belongs in a unit written for it.\n\
         CapabilityBoundingSet=\n\
         AmbientCapabilities=\n\
         UMask=0077\n"
    )
}

fn timer(entry: &Entry) -> String {
    let name = &entry.integration.name;
    let zone = entry
        .integration
        .schedule
        .as_ref()
        .and_then(|schedule| schedule.timezone)
        .map(|zone| zone.name().to_owned());
    let suffix = zone
        .as_ref()
        .map(|zone| format!(" {zone}"))
        .unwrap_or_default();
    let lines = entry
        .on_calendar
        .iter()
        .map(|line| format!("OnCalendar={line}{suffix}\n"))
        .collect::<String>();
    let why_two = if entry.on_calendar.len() > 1 {
        "# cron runs on a day that matches its day-of-month OR its day-of-week; one OnCalendar=\n\
         # line would need both, so each gets its own line, and the timer fires on either.\n"
    } else {
        ""
    };
    let zone_note = match &zone {
        Some(_) => String::new(),
        None => "# No zone in the file: systemd reads these times in the machine's zone, as integ does.\n"
            .to_owned(),
    };
    format!(
        "# integ-{name}.timer: written by `integ schedule --format systemd`; it starts\n\
         # integ-{name}.service at the times of `{expression}`.\n\
         [Unit]\n\
         Description=integ: the schedule of `{name}`\n\
         \n\
         [Timer]\n\
         {why_two}{zone_note}{lines}\
         # After the machine was off, run once at boot: the run still covers every missed tick.\n\
         Persistent=true\n\
         # No Requires= on the service: starting the timer would start the run (systemd #14642).\n\
         \n\
         [Install]\n\
         WantedBy=timers.target\n",
        expression = entry.expression,
    )
}

/// One word of a unit file's command line: `%` and `$` are systemd's own, so doubled; a word
/// with spaces or quotes is quoted.
fn unit_word(arg: &str) -> String {
    let escaped = arg.replace('%', "%%").replace('$', "$$");
    if escaped.is_empty() || escaped.contains([' ', '\t', '"', '\'', '\\', ';']) {
        format!("\"{}\"", escaped.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        escaped
    }
}

#[cfg(test)]
mod tests {
    use super::unit_word;

    #[test]
    fn unit_words_escape_specifiers_and_quote_spaces() {
        assert_eq!(unit_word("/srv/a b/100%"), "\"/srv/a b/100%%\"");
        assert_eq!(unit_word("$HOME"), "$$HOME");
        assert_eq!(unit_word("plain"), "plain");
    }
}
