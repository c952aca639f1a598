# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_integ_global_optspecs
    string join \n c/config= state-dir= q/quiet v/verbose color= log-format= h/help V/version
end

function __fish_integ_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_integ_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_integ_using_subcommand
    set -l cmd (__fish_integ_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c integ -n "__fish_integ_needs_command" -s c -l config -d 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]' -r -F
complete -c integ -n "__fish_integ_needs_command" -l state-dir -d 'Where run history, locks and watermarks live [default: one per integrations file, under $XDG_STATE_HOME/integ/projects; `integ list` shows it]' -r -F
complete -c integ -n "__fish_integ_needs_command" -l color -d 'When to use colour [default: auto, which honours NO_COLOR]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c integ -n "__fish_integ_needs_command" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c integ -n "__fish_integ_needs_command" -s q -l quiet -d 'Print nothing on success; on failure print the error and the run\'s log (for cron)'
complete -c integ -n "__fish_integ_needs_command" -s v -l verbose -d 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter'
complete -c integ -n "__fish_integ_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c integ -n "__fish_integ_needs_command" -s V -l version -d 'Print version'
complete -c integ -n "__fish_integ_needs_command" -f -a "run" -d 'Run an integration now'
complete -c integ -n "__fish_integ_needs_command" -f -a "list" -d 'List the integrations, their params, triggers and last run'
complete -c integ -n "__fish_integ_needs_command" -f -a "check" -d 'Validate the integrations file offline and report every problem at once'
complete -c integ -n "__fish_integ_needs_command" -f -a "history" -d 'Show past runs, newest first'
complete -c integ -n "__fish_integ_needs_command" -f -a "logs" -d 'Print one run: what started it, its params, how it went, and each attempt\'s log'
complete -c integ -n "__fish_integ_needs_command" -f -a "output" -d 'Print what one run wrote for the person: its report, its stdout export, a dry run\'s plan'
complete -c integ -n "__fish_integ_needs_command" -f -a "serve-hook" -d 'Listen for webhooks and run the integrations they name'
complete -c integ -n "__fish_integ_needs_command" -f -a "retry" -d 'Queue failed webhook runs again, for `integ serve-hook` to run'
complete -c integ -n "__fish_integ_needs_command" -f -a "prune" -d 'Delete the runs past their retention and free the dedupe keys past `dedupe_for`'
complete -c integ -n "__fish_integ_needs_command" -f -a "link" -d 'Print a signed, expiring link that runs an integration with these params'
complete -c integ -n "__fish_integ_needs_command" -f -a "completions" -d 'Print a shell completion script, generated from these definitions'
complete -c integ -n "__fish_integ_needs_command" -f -a "man" -d 'Print the manual page (roff), generated from these definitions'
complete -c integ -n "__fish_integ_needs_command" -f -a "init" -d 'Write a commented starter integrations.toml'
complete -c integ -n "__fish_integ_needs_command" -f -a "schedule" -d 'Write the crontab lines, systemd units or Kubernetes CronJobs that run scheduled integrations'
complete -c integ -n "__fish_integ_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c integ -n "__fish_integ_using_subcommand run" -s p -l param -d 'Set a param, as NAME=VALUE' -r
complete -c integ -n "__fish_integ_using_subcommand run" -l from -d 'Cover an explicit window from this date or time (in the schedule\'s zone): a backfill' -r
complete -c integ -n "__fish_integ_using_subcommand run" -l to -d 'The end of the backfill\'s window (not included)' -r
complete -c integ -n "__fish_integ_using_subcommand run" -s c -l config -d 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]' -r -F
complete -c integ -n "__fish_integ_using_subcommand run" -l state-dir -d 'Where run history, locks and watermarks live [default: one per integrations file, under $XDG_STATE_HOME/integ/projects; `integ list` shows it]' -r -F
complete -c integ -n "__fish_integ_using_subcommand run" -l color -d 'When to use colour [default: auto, which honours NO_COLOR]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c integ -n "__fish_integ_using_subcommand run" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c integ -n "__fish_integ_using_subcommand run" -l wait -d 'Wait for a running copy of the integration to finish instead of following its `overlap` policy'
complete -c integ -n "__fish_integ_using_subcommand run" -l dry-run -d 'Make GET and HEAD requests; show every other request, command and file write instead of doing it'
complete -c integ -n "__fish_integ_using_subcommand run" -l scheduled -d 'Started by a scheduler (cron, a systemd timer): cover the period since the last success up to the latest tick of the schedule, quietly'
complete -c integ -n "__fish_integ_using_subcommand run" -l each -d 'With `--from`/`--to`: one run per interval of the schedule, in order'
complete -c integ -n "__fish_integ_using_subcommand run" -l plan -d 'Print the window(s) a run now would cover, and where the watermark would move, without running'
complete -c integ -n "__fish_integ_using_subcommand run" -s q -l quiet -d 'Print nothing on success; on failure print the error and the run\'s log (for cron)'
complete -c integ -n "__fish_integ_using_subcommand run" -s v -l verbose -d 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter'
complete -c integ -n "__fish_integ_using_subcommand run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c integ -n "__fish_integ_using_subcommand list" -s c -l config -d 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]' -r -F
complete -c integ -n "__fish_integ_using_subcommand list" -l state-dir -d 'Where run history, locks and watermarks live [default: one per integrations file, under $XDG_STATE_HOME/integ/projects; `integ list` shows it]' -r -F
complete -c integ -n "__fish_integ_using_subcommand list" -l color -d 'When to use colour [default: auto, which honours NO_COLOR]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c integ -n "__fish_integ_using_subcommand list" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c integ -n "__fish_integ_using_subcommand list" -l json -d 'Print JSON for scripts instead of a table'
complete -c integ -n "__fish_integ_using_subcommand list" -s q -l quiet -d 'Print nothing on success; on failure print the error and the run\'s log (for cron)'
complete -c integ -n "__fish_integ_using_subcommand list" -s v -l verbose -d 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter'
complete -c integ -n "__fish_integ_using_subcommand list" -s h -l help -d 'Print help'
complete -c integ -n "__fish_integ_using_subcommand check" -s c -l config -d 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]' -r -F
complete -c integ -n "__fish_integ_using_subcommand check" -l state-dir -d 'Where run history, locks and watermarks live [default: one per integrations file, under $XDG_STATE_HOME/integ/projects; `integ list` shows it]' -r -F
complete -c integ -n "__fish_integ_using_subcommand check" -l color -d 'When to use colour [default: auto, which honours NO_COLOR]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c integ -n "__fish_integ_using_subcommand check" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c integ -n "__fish_integ_using_subcommand check" -s q -l quiet -d 'Print nothing on success; on failure print the error and the run\'s log (for cron)'
complete -c integ -n "__fish_integ_using_subcommand check" -s v -l verbose -d 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter'
complete -c integ -n "__fish_integ_using_subcommand check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c integ -n "__fish_integ_using_subcommand history" -s n -l limit -d 'How many runs to show' -r
complete -c integ -n "__fish_integ_using_subcommand history" -s c -l config -d 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]' -r -F
complete -c integ -n "__fish_integ_using_subcommand history" -l state-dir -d 'Where run history, locks and watermarks live [default: one per integrations file, under $XDG_STATE_HOME/integ/projects; `integ list` shows it]' -r -F
complete -c integ -n "__fish_integ_using_subcommand history" -l color -d 'When to use colour [default: auto, which honours NO_COLOR]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c integ -n "__fish_integ_using_subcommand history" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c integ -n "__fish_integ_using_subcommand history" -l failed -d 'Only failed and interrupted runs'
complete -c integ -n "__fish_integ_using_subcommand history" -l json -d 'Print JSON for scripts instead of a table'
complete -c integ -n "__fish_integ_using_subcommand history" -s q -l quiet -d 'Print nothing on success; on failure print the error and the run\'s log (for cron)'
complete -c integ -n "__fish_integ_using_subcommand history" -s v -l verbose -d 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter'
complete -c integ -n "__fish_integ_using_subcommand history" -s h -l help -d 'Print help'
complete -c integ -n "__fish_integ_using_subcommand logs" -s c -l config -d 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]' -r -F
complete -c integ -n "__fish_integ_using_subcommand logs" -l state-dir -d 'Where run history, locks and watermarks live [default: one per integrations file, under $XDG_STATE_HOME/integ/projects; `integ list` shows it]' -r -F
complete -c integ -n "__fish_integ_using_subcommand logs" -l color -d 'When to use colour [default: auto, which honours NO_COLOR]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c integ -n "__fish_integ_using_subcommand logs" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c integ -n "__fish_integ_using_subcommand logs" -s q -l quiet -d 'Print nothing on success; on failure print the error and the run\'s log (for cron)'
complete -c integ -n "__fish_integ_using_subcommand logs" -s v -l verbose -d 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter'
complete -c integ -n "__fish_integ_using_subcommand logs" -s h -l help -d 'Print help'
complete -c integ -n "__fish_integ_using_subcommand output" -s c -l config -d 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]' -r -F
complete -c integ -n "__fish_integ_using_subcommand output" -l state-dir -d 'Where run history, locks and watermarks live [default: one per integrations file, under $XDG_STATE_HOME/integ/projects; `integ list` shows it]' -r -F
complete -c integ -n "__fish_integ_using_subcommand output" -l color -d 'When to use colour [default: auto, which honours NO_COLOR]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c integ -n "__fish_integ_using_subcommand output" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c integ -n "__fish_integ_using_subcommand output" -s q -l quiet -d 'Print nothing on success; on failure print the error and the run\'s log (for cron)'
complete -c integ -n "__fish_integ_using_subcommand output" -s v -l verbose -d 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter'
complete -c integ -n "__fish_integ_using_subcommand output" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c integ -n "__fish_integ_using_subcommand serve-hook" -l listen -d 'Where to listen; `0.0.0.0:PORT` to accept other machines, port 0 for any free port' -r
complete -c integ -n "__fish_integ_using_subcommand serve-hook" -l workers -d 'How many runs at once, across integrations (each also keeps to its `concurrency`); 0 only stores events, to run at a later start' -r
complete -c integ -n "__fish_integ_using_subcommand serve-hook" -l max-body -d 'The largest request body accepted, in bytes (larger ones get 413)' -r
complete -c integ -n "__fish_integ_using_subcommand serve-hook" -l max-connections -d 'The most connections open at once; more wait until one closes' -r
complete -c integ -n "__fish_integ_using_subcommand serve-hook" -l read-timeout -d 'How long a request may take to arrive whole: slower headers close the connection, a slower body gets 408' -r
complete -c integ -n "__fish_integ_using_subcommand serve-hook" -l grace -d 'How long running integrations may take to finish on SIGTERM' -r
complete -c integ -n "__fish_integ_using_subcommand serve-hook" -s c -l config -d 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]' -r -F
complete -c integ -n "__fish_integ_using_subcommand serve-hook" -l state-dir -d 'Where run history, locks and watermarks live [default: one per integrations file, under $XDG_STATE_HOME/integ/projects; `integ list` shows it]' -r -F
complete -c integ -n "__fish_integ_using_subcommand serve-hook" -l color -d 'When to use colour [default: auto, which honours NO_COLOR]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c integ -n "__fish_integ_using_subcommand serve-hook" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c integ -n "__fish_integ_using_subcommand serve-hook" -s q -l quiet -d 'Print nothing on success; on failure print the error and the run\'s log (for cron)'
complete -c integ -n "__fish_integ_using_subcommand serve-hook" -s v -l verbose -d 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter'
complete -c integ -n "__fish_integ_using_subcommand serve-hook" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c integ -n "__fish_integ_using_subcommand retry" -l all-failed -d 'Every failed webhook run of this integration' -r
complete -c integ -n "__fish_integ_using_subcommand retry" -s c -l config -d 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]' -r -F
complete -c integ -n "__fish_integ_using_subcommand retry" -l state-dir -d 'Where run history, locks and watermarks live [default: one per integrations file, under $XDG_STATE_HOME/integ/projects; `integ list` shows it]' -r -F
complete -c integ -n "__fish_integ_using_subcommand retry" -l color -d 'When to use colour [default: auto, which honours NO_COLOR]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c integ -n "__fish_integ_using_subcommand retry" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c integ -n "__fish_integ_using_subcommand retry" -s q -l quiet -d 'Print nothing on success; on failure print the error and the run\'s log (for cron)'
complete -c integ -n "__fish_integ_using_subcommand retry" -s v -l verbose -d 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter'
complete -c integ -n "__fish_integ_using_subcommand retry" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c integ -n "__fish_integ_using_subcommand prune" -l older-than -d 'Delete the runs older than this, of every integration, instead of each one\'s retention' -r
complete -c integ -n "__fish_integ_using_subcommand prune" -s c -l config -d 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]' -r -F
complete -c integ -n "__fish_integ_using_subcommand prune" -l state-dir -d 'Where run history, locks and watermarks live [default: one per integrations file, under $XDG_STATE_HOME/integ/projects; `integ list` shows it]' -r -F
complete -c integ -n "__fish_integ_using_subcommand prune" -l color -d 'When to use colour [default: auto, which honours NO_COLOR]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c integ -n "__fish_integ_using_subcommand prune" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c integ -n "__fish_integ_using_subcommand prune" -l dry-run -d 'Count what would be deleted and freed; change nothing'
complete -c integ -n "__fish_integ_using_subcommand prune" -l json -d 'Print JSON for scripts instead of a table'
complete -c integ -n "__fish_integ_using_subcommand prune" -s q -l quiet -d 'Print nothing on success; on failure print the error and the run\'s log (for cron)'
complete -c integ -n "__fish_integ_using_subcommand prune" -s v -l verbose -d 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter'
complete -c integ -n "__fish_integ_using_subcommand prune" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c integ -n "__fish_integ_using_subcommand link" -s p -l param -d 'Fix a param in the link, as NAME=VALUE' -r
complete -c integ -n "__fish_integ_using_subcommand link" -l expires -d 'How long the link works (at most 7d)' -r
complete -c integ -n "__fish_integ_using_subcommand link" -l base-url -d 'Where the listener is reached, as the person clicking it sees it' -r
complete -c integ -n "__fish_integ_using_subcommand link" -s c -l config -d 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]' -r -F
complete -c integ -n "__fish_integ_using_subcommand link" -l state-dir -d 'Where run history, locks and watermarks live [default: one per integrations file, under $XDG_STATE_HOME/integ/projects; `integ list` shows it]' -r -F
complete -c integ -n "__fish_integ_using_subcommand link" -l color -d 'When to use colour [default: auto, which honours NO_COLOR]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c integ -n "__fish_integ_using_subcommand link" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c integ -n "__fish_integ_using_subcommand link" -s q -l quiet -d 'Print nothing on success; on failure print the error and the run\'s log (for cron)'
complete -c integ -n "__fish_integ_using_subcommand link" -s v -l verbose -d 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter'
complete -c integ -n "__fish_integ_using_subcommand link" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c integ -n "__fish_integ_using_subcommand completions" -s c -l config -d 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]' -r -F
complete -c integ -n "__fish_integ_using_subcommand completions" -l state-dir -d 'Where run history, locks and watermarks live [default: one per integrations file, under $XDG_STATE_HOME/integ/projects; `integ list` shows it]' -r -F
complete -c integ -n "__fish_integ_using_subcommand completions" -l color -d 'When to use colour [default: auto, which honours NO_COLOR]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c integ -n "__fish_integ_using_subcommand completions" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c integ -n "__fish_integ_using_subcommand completions" -s q -l quiet -d 'Print nothing on success; on failure print the error and the run\'s log (for cron)'
complete -c integ -n "__fish_integ_using_subcommand completions" -s v -l verbose -d 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter'
complete -c integ -n "__fish_integ_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c integ -n "__fish_integ_using_subcommand man" -s c -l config -d 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]' -r -F
complete -c integ -n "__fish_integ_using_subcommand man" -l state-dir -d 'Where run history, locks and watermarks live [default: one per integrations file, under $XDG_STATE_HOME/integ/projects; `integ list` shows it]' -r -F
complete -c integ -n "__fish_integ_using_subcommand man" -l color -d 'When to use colour [default: auto, which honours NO_COLOR]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c integ -n "__fish_integ_using_subcommand man" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c integ -n "__fish_integ_using_subcommand man" -s q -l quiet -d 'Print nothing on success; on failure print the error and the run\'s log (for cron)'
complete -c integ -n "__fish_integ_using_subcommand man" -s v -l verbose -d 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter'
complete -c integ -n "__fish_integ_using_subcommand man" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c integ -n "__fish_integ_using_subcommand init" -s c -l config -d 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]' -r -F
complete -c integ -n "__fish_integ_using_subcommand init" -l state-dir -d 'Where run history, locks and watermarks live [default: one per integrations file, under $XDG_STATE_HOME/integ/projects; `integ list` shows it]' -r -F
complete -c integ -n "__fish_integ_using_subcommand init" -l color -d 'When to use colour [default: auto, which honours NO_COLOR]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c integ -n "__fish_integ_using_subcommand init" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c integ -n "__fish_integ_using_subcommand init" -s q -l quiet -d 'Print nothing on success; on failure print the error and the run\'s log (for cron)'
complete -c integ -n "__fish_integ_using_subcommand init" -s v -l verbose -d 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter'
complete -c integ -n "__fish_integ_using_subcommand init" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c integ -n "__fish_integ_using_subcommand schedule" -s f -l format -d 'Which scheduler the entries are for' -r -f -a "crontab\t''
systemd\t''
kubernetes\t''"
complete -c integ -n "__fish_integ_using_subcommand schedule" -l out -d 'Write the files into this directory (`integ.crontab`, `integ-NAME.service` and `.timer`, `integ-NAME.yaml`) instead of printing them' -r -F
complete -c integ -n "__fish_integ_using_subcommand schedule" -l binary -d 'The integ binary the entries start [default: this one]' -r -F
complete -c integ -n "__fish_integ_using_subcommand schedule" -l user -d 'The user the runs run as: systemd\'s `User=`, or whose crontab takes the lines (`crontab -u NAME`); `integ` for the .deb\'s listener [default: whoever installs them]' -r
complete -c integ -n "__fish_integ_using_subcommand schedule" -l pvc -d 'Kubernetes: the PersistentVolumeClaim mounted at the state directory' -r
complete -c integ -n "__fish_integ_using_subcommand schedule" -l configmap -d 'Kubernetes: the ConfigMap that holds the integrations file' -r
complete -c integ -n "__fish_integ_using_subcommand schedule" -l image -d 'Kubernetes: the container image that has the binary at `--binary`' -r
complete -c integ -n "__fish_integ_using_subcommand schedule" -s c -l config -d 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]' -r -F
complete -c integ -n "__fish_integ_using_subcommand schedule" -l state-dir -d 'Where run history, locks and watermarks live [default: one per integrations file, under $XDG_STATE_HOME/integ/projects; `integ list` shows it]' -r -F
complete -c integ -n "__fish_integ_using_subcommand schedule" -l color -d 'When to use colour [default: auto, which honours NO_COLOR]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c integ -n "__fish_integ_using_subcommand schedule" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c integ -n "__fish_integ_using_subcommand schedule" -s q -l quiet -d 'Print nothing on success; on failure print the error and the run\'s log (for cron)'
complete -c integ -n "__fish_integ_using_subcommand schedule" -s v -l verbose -d 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter'
complete -c integ -n "__fish_integ_using_subcommand schedule" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c integ -n "__fish_integ_using_subcommand help; and not __fish_seen_subcommand_from run list check history logs output serve-hook retry prune link completions man init schedule help" -f -a "run" -d 'Run an integration now'
complete -c integ -n "__fish_integ_using_subcommand help; and not __fish_seen_subcommand_from run list check history logs output serve-hook retry prune link completions man init schedule help" -f -a "list" -d 'List the integrations, their params, triggers and last run'
complete -c integ -n "__fish_integ_using_subcommand help; and not __fish_seen_subcommand_from run list check history logs output serve-hook retry prune link completions man init schedule help" -f -a "check" -d 'Validate the integrations file offline and report every problem at once'
complete -c integ -n "__fish_integ_using_subcommand help; and not __fish_seen_subcommand_from run list check history logs output serve-hook retry prune link completions man init schedule help" -f -a "history" -d 'Show past runs, newest first'
complete -c integ -n "__fish_integ_using_subcommand help; and not __fish_seen_subcommand_from run list check history logs output serve-hook retry prune link completions man init schedule help" -f -a "logs" -d 'Print one run: what started it, its params, how it went, and each attempt\'s log'
complete -c integ -n "__fish_integ_using_subcommand help; and not __fish_seen_subcommand_from run list check history logs output serve-hook retry prune link completions man init schedule help" -f -a "output" -d 'Print what one run wrote for the person: its report, its stdout export, a dry run\'s plan'
complete -c integ -n "__fish_integ_using_subcommand help; and not __fish_seen_subcommand_from run list check history logs output serve-hook retry prune link completions man init schedule help" -f -a "serve-hook" -d 'Listen for webhooks and run the integrations they name'
complete -c integ -n "__fish_integ_using_subcommand help; and not __fish_seen_subcommand_from run list check history logs output serve-hook retry prune link completions man init schedule help" -f -a "retry" -d 'Queue failed webhook runs again, for `integ serve-hook` to run'
complete -c integ -n "__fish_integ_using_subcommand help; and not __fish_seen_subcommand_from run list check history logs output serve-hook retry prune link completions man init schedule help" -f -a "prune" -d 'Delete the runs past their retention and free the dedupe keys past `dedupe_for`'
complete -c integ -n "__fish_integ_using_subcommand help; and not __fish_seen_subcommand_from run list check history logs output serve-hook retry prune link completions man init schedule help" -f -a "link" -d 'Print a signed, expiring link that runs an integration with these params'
complete -c integ -n "__fish_integ_using_subcommand help; and not __fish_seen_subcommand_from run list check history logs output serve-hook retry prune link completions man init schedule help" -f -a "completions" -d 'Print a shell completion script, generated from these definitions'
complete -c integ -n "__fish_integ_using_subcommand help; and not __fish_seen_subcommand_from run list check history logs output serve-hook retry prune link completions man init schedule help" -f -a "man" -d 'Print the manual page (roff), generated from these definitions'
complete -c integ -n "__fish_integ_using_subcommand help; and not __fish_seen_subcommand_from run list check history logs output serve-hook retry prune link completions man init schedule help" -f -a "init" -d 'Write a commented starter integrations.toml'
complete -c integ -n "__fish_integ_using_subcommand help; and not __fish_seen_subcommand_from run list check history logs output serve-hook retry prune link completions man init schedule help" -f -a "schedule" -d 'Write the crontab lines, systemd units or Kubernetes CronJobs that run scheduled integrations'
complete -c integ -n "__fish_integ_using_subcommand help; and not __fish_seen_subcommand_from run list check history logs output serve-hook retry prune link completions man init schedule help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
