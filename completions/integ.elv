
use builtin;
use str;

set edit:completion:arg-completer[integ] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'integ'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'integ'= {
            cand -c 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]'
            cand --config 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]'
            cand --state-dir 'Where run history, locks and watermarks live [default: one per integrations file, under $XDG_STATE_HOME/integ/projects; `integ list` shows it]'
            cand --color 'When to use colour [default: auto, which honours NO_COLOR]'
            cand --log-format 'Log line format on stderr'
            cand -q 'Print nothing on success; on failure print the error and the run''s log (for cron)'
            cand --quiet 'Print nothing on success; on failure print the error and the run''s log (for cron)'
            cand -v 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter'
            cand --verbose 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand run 'Run an integration now'
            cand list 'List the integrations, their params, triggers and last run'
            cand check 'Validate the integrations file offline and report every problem at once'
            cand history 'Show past runs, newest first'
            cand logs 'Print one run: what started it, its params, how it went, and each attempt''s log'
            cand output 'Print what one run wrote for the person: its report, its stdout export, a dry run''s plan'
            cand serve-hook 'Listen for webhooks and run the integrations they name'
            cand retry 'Queue failed webhook runs again, for `integ serve-hook` to run'
            cand prune 'Delete the runs past their retention and free the dedupe keys past `dedupe_for`'
            cand link 'Print a signed, expiring link that runs an integration with these params'
            cand completions 'Print a shell completion script, generated from these definitions'
            cand man 'Print the manual page (roff), generated from these definitions'
            cand init 'Write a commented starter integrations.toml'
            cand schedule 'Write the crontab lines, systemd units or Kubernetes CronJobs that run scheduled integrations'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'integ;run'= {
            cand -p 'Set a param, as NAME=VALUE'
            cand --param 'Set a param, as NAME=VALUE'
            cand --from 'Cover an explicit window from this date or time (in the schedule''s zone): a backfill'
            cand --to 'The end of the backfill''s window (not included)'
            cand -c 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]'
            cand --config 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]'
            cand --state-dir 'Where run history, locks and watermarks live [default: one per integrations file, under $XDG_STATE_HOME/integ/projects; `integ list` shows it]'
            cand --color 'When to use colour [default: auto, which honours NO_COLOR]'
            cand --log-format 'Log line format on stderr'
            cand --wait 'Wait for a running copy of the integration to finish instead of following its `overlap` policy'
            cand --dry-run 'Make GET and HEAD requests; show every other request, command and file write instead of doing it'
            cand --scheduled 'Started by a scheduler (cron, a systemd timer): cover the period since the last success up to the latest tick of the schedule, quietly'
            cand --each 'With `--from`/`--to`: one run per interval of the schedule, in order'
            cand --plan 'Print the window(s) a run now would cover, and where the watermark would move, without running'
            cand -q 'Print nothing on success; on failure print the error and the run''s log (for cron)'
            cand --quiet 'Print nothing on success; on failure print the error and the run''s log (for cron)'
            cand -v 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter'
            cand --verbose 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'integ;list'= {
            cand -c 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]'
            cand --config 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]'
            cand --state-dir 'Where run history, locks and watermarks live [default: one per integrations file, under $XDG_STATE_HOME/integ/projects; `integ list` shows it]'
            cand --color 'When to use colour [default: auto, which honours NO_COLOR]'
            cand --log-format 'Log line format on stderr'
            cand --json 'Print JSON for scripts instead of a table'
            cand -q 'Print nothing on success; on failure print the error and the run''s log (for cron)'
            cand --quiet 'Print nothing on success; on failure print the error and the run''s log (for cron)'
            cand -v 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter'
            cand --verbose 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'integ;check'= {
            cand -c 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]'
            cand --config 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]'
            cand --state-dir 'Where run history, locks and watermarks live [default: one per integrations file, under $XDG_STATE_HOME/integ/projects; `integ list` shows it]'
            cand --color 'When to use colour [default: auto, which honours NO_COLOR]'
            cand --log-format 'Log line format on stderr'
            cand -q 'Print nothing on success; on failure print the error and the run''s log (for cron)'
            cand --quiet 'Print nothing on success; on failure print the error and the run''s log (for cron)'
            cand -v 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter'
            cand --verbose 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'integ;history'= {
            cand -n 'How many runs to show'
            cand --limit 'How many runs to show'
            cand -c 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]'
            cand --config 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]'
            cand --state-dir 'Where run history, locks and watermarks live [default: one per integrations file, under $XDG_STATE_HOME/integ/projects; `integ list` shows it]'
            cand --color 'When to use colour [default: auto, which honours NO_COLOR]'
            cand --log-format 'Log line format on stderr'
            cand --failed 'Only failed and interrupted runs'
            cand --json 'Print JSON for scripts instead of a table'
            cand -q 'Print nothing on success; on failure print the error and the run''s log (for cron)'
            cand --quiet 'Print nothing on success; on failure print the error and the run''s log (for cron)'
            cand -v 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter'
            cand --verbose 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'integ;logs'= {
            cand -c 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]'
            cand --config 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]'
            cand --state-dir 'Where run history, locks and watermarks live [default: one per integrations file, under $XDG_STATE_HOME/integ/projects; `integ list` shows it]'
            cand --color 'When to use colour [default: auto, which honours NO_COLOR]'
            cand --log-format 'Log line format on stderr'
            cand -q 'Print nothing on success; on failure print the error and the run''s log (for cron)'
            cand --quiet 'Print nothing on success; on failure print the error and the run''s log (for cron)'
            cand -v 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter'
            cand --verbose 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'integ;output'= {
            cand -c 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]'
            cand --config 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]'
            cand --state-dir 'Where run history, locks and watermarks live [default: one per integrations file, under $XDG_STATE_HOME/integ/projects; `integ list` shows it]'
            cand --color 'When to use colour [default: auto, which honours NO_COLOR]'
            cand --log-format 'Log line format on stderr'
            cand -q 'Print nothing on success; on failure print the error and the run''s log (for cron)'
            cand --quiet 'Print nothing on success; on failure print the error and the run''s log (for cron)'
            cand -v 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter'
            cand --verbose 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'integ;serve-hook'= {
            cand --listen 'Where to listen; `0.0.0.0:PORT` to accept other machines, port 0 for any free port'
            cand --workers 'How many runs at once, across integrations (each also keeps to its `concurrency`); 0 only stores events, to run at a later start'
            cand --max-body 'The largest request body accepted, in bytes (larger ones get 413)'
            cand --max-connections 'The most connections open at once; more wait until one closes'
            cand --read-timeout 'How long a request may take to arrive whole: slower headers close the connection, a slower body gets 408'
            cand --grace 'How long running integrations may take to finish on SIGTERM'
            cand -c 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]'
            cand --config 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]'
            cand --state-dir 'Where run history, locks and watermarks live [default: one per integrations file, under $XDG_STATE_HOME/integ/projects; `integ list` shows it]'
            cand --color 'When to use colour [default: auto, which honours NO_COLOR]'
            cand --log-format 'Log line format on stderr'
            cand -q 'Print nothing on success; on failure print the error and the run''s log (for cron)'
            cand --quiet 'Print nothing on success; on failure print the error and the run''s log (for cron)'
            cand -v 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter'
            cand --verbose 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'integ;retry'= {
            cand --all-failed 'Every failed webhook run of this integration'
            cand -c 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]'
            cand --config 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]'
            cand --state-dir 'Where run history, locks and watermarks live [default: one per integrations file, under $XDG_STATE_HOME/integ/projects; `integ list` shows it]'
            cand --color 'When to use colour [default: auto, which honours NO_COLOR]'
            cand --log-format 'Log line format on stderr'
            cand -q 'Print nothing on success; on failure print the error and the run''s log (for cron)'
            cand --quiet 'Print nothing on success; on failure print the error and the run''s log (for cron)'
            cand -v 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter'
            cand --verbose 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'integ;prune'= {
            cand --older-than 'Delete the runs older than this, of every integration, instead of each one''s retention'
            cand -c 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]'
            cand --config 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]'
            cand --state-dir 'Where run history, locks and watermarks live [default: one per integrations file, under $XDG_STATE_HOME/integ/projects; `integ list` shows it]'
            cand --color 'When to use colour [default: auto, which honours NO_COLOR]'
            cand --log-format 'Log line format on stderr'
            cand --dry-run 'Count what would be deleted and freed; change nothing'
            cand --json 'Print JSON for scripts instead of a table'
            cand -q 'Print nothing on success; on failure print the error and the run''s log (for cron)'
            cand --quiet 'Print nothing on success; on failure print the error and the run''s log (for cron)'
            cand -v 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter'
            cand --verbose 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'integ;link'= {
            cand -p 'Fix a param in the link, as NAME=VALUE'
            cand --param 'Fix a param in the link, as NAME=VALUE'
            cand --expires 'How long the link works (at most 7d)'
            cand --base-url 'Where the listener is reached, as the person clicking it sees it'
            cand -c 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]'
            cand --config 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]'
            cand --state-dir 'Where run history, locks and watermarks live [default: one per integrations file, under $XDG_STATE_HOME/integ/projects; `integ list` shows it]'
            cand --color 'When to use colour [default: auto, which honours NO_COLOR]'
            cand --log-format 'Log line format on stderr'
            cand -q 'Print nothing on success; on failure print the error and the run''s log (for cron)'
            cand --quiet 'Print nothing on success; on failure print the error and the run''s log (for cron)'
            cand -v 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter'
            cand --verbose 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'integ;completions'= {
            cand -c 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]'
            cand --config 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]'
            cand --state-dir 'Where run history, locks and watermarks live [default: one per integrations file, under $XDG_STATE_HOME/integ/projects; `integ list` shows it]'
            cand --color 'When to use colour [default: auto, which honours NO_COLOR]'
            cand --log-format 'Log line format on stderr'
            cand -q 'Print nothing on success; on failure print the error and the run''s log (for cron)'
            cand --quiet 'Print nothing on success; on failure print the error and the run''s log (for cron)'
            cand -v 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter'
            cand --verbose 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'integ;man'= {
            cand -c 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]'
            cand --config 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]'
            cand --state-dir 'Where run history, locks and watermarks live [default: one per integrations file, under $XDG_STATE_HOME/integ/projects; `integ list` shows it]'
            cand --color 'When to use colour [default: auto, which honours NO_COLOR]'
            cand --log-format 'Log line format on stderr'
            cand -q 'Print nothing on success; on failure print the error and the run''s log (for cron)'
            cand --quiet 'Print nothing on success; on failure print the error and the run''s log (for cron)'
            cand -v 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter'
            cand --verbose 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'integ;init'= {
            cand -c 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]'
            cand --config 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]'
            cand --state-dir 'Where run history, locks and watermarks live [default: one per integrations file, under $XDG_STATE_HOME/integ/projects; `integ list` shows it]'
            cand --color 'When to use colour [default: auto, which honours NO_COLOR]'
            cand --log-format 'Log line format on stderr'
            cand -q 'Print nothing on success; on failure print the error and the run''s log (for cron)'
            cand --quiet 'Print nothing on success; on failure print the error and the run''s log (for cron)'
            cand -v 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter'
            cand --verbose 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'integ;schedule'= {
            cand -f 'Which scheduler the entries are for'
            cand --format 'Which scheduler the entries are for'
            cand --out 'Write the files into this directory (`integ.crontab`, `integ-NAME.service` and `.timer`, `integ-NAME.yaml`) instead of printing them'
            cand --binary 'The integ binary the entries start [default: this one]'
            cand --user 'The user the runs run as: systemd''s `User=`, or whose crontab takes the lines (`crontab -u NAME`); `integ` for the .deb''s listener [default: whoever installs them]'
            cand --pvc 'Kubernetes: the PersistentVolumeClaim mounted at the state directory'
            cand --configmap 'Kubernetes: the ConfigMap that holds the integrations file'
            cand --image 'Kubernetes: the container image that has the binary at `--binary`'
            cand -c 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]'
            cand --config 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]'
            cand --state-dir 'Where run history, locks and watermarks live [default: one per integrations file, under $XDG_STATE_HOME/integ/projects; `integ list` shows it]'
            cand --color 'When to use colour [default: auto, which honours NO_COLOR]'
            cand --log-format 'Log line format on stderr'
            cand -q 'Print nothing on success; on failure print the error and the run''s log (for cron)'
            cand --quiet 'Print nothing on success; on failure print the error and the run''s log (for cron)'
            cand -v 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter'
            cand --verbose 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'integ;help'= {
            cand run 'Run an integration now'
            cand list 'List the integrations, their params, triggers and last run'
            cand check 'Validate the integrations file offline and report every problem at once'
            cand history 'Show past runs, newest first'
            cand logs 'Print one run: what started it, its params, how it went, and each attempt''s log'
            cand output 'Print what one run wrote for the person: its report, its stdout export, a dry run''s plan'
            cand serve-hook 'Listen for webhooks and run the integrations they name'
            cand retry 'Queue failed webhook runs again, for `integ serve-hook` to run'
            cand prune 'Delete the runs past their retention and free the dedupe keys past `dedupe_for`'
            cand link 'Print a signed, expiring link that runs an integration with these params'
            cand completions 'Print a shell completion script, generated from these definitions'
            cand man 'Print the manual page (roff), generated from these definitions'
            cand init 'Write a commented starter integrations.toml'
            cand schedule 'Write the crontab lines, systemd units or Kubernetes CronJobs that run scheduled integrations'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'integ;help;run'= {
        }
        &'integ;help;list'= {
        }
        &'integ;help;check'= {
        }
        &'integ;help;history'= {
        }
        &'integ;help;logs'= {
        }
        &'integ;help;output'= {
        }
        &'integ;help;serve-hook'= {
        }
        &'integ;help;retry'= {
        }
        &'integ;help;prune'= {
        }
        &'integ;help;link'= {
        }
        &'integ;help;completions'= {
        }
        &'integ;help;man'= {
        }
        &'integ;help;init'= {
        }
        &'integ;help;schedule'= {
        }
        &'integ;help;help'= {
        }
    ]
    $completions[$command]
}
