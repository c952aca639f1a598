
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'integ' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'integ'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'integ' {
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Where run history, locks and watermarks live [default: one per integrations file, under $XDG_STATE_HOME/integ/projects; `integ list` shows it]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour [default: auto, which honours NO_COLOR]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success; on failure print the error and the run''s log (for cron)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success; on failure print the error and the run''s log (for cron)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run an integration now')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the integrations, their params, triggers and last run')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Validate the integrations file offline and report every problem at once')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'Show past runs, newest first')
            [CompletionResult]::new('logs', 'logs', [CompletionResultType]::ParameterValue, 'Print one run: what started it, its params, how it went, and each attempt''s log')
            [CompletionResult]::new('output', 'output', [CompletionResultType]::ParameterValue, 'Print what one run wrote for the person: its report, its stdout export, a dry run''s plan')
            [CompletionResult]::new('serve-hook', 'serve-hook', [CompletionResultType]::ParameterValue, 'Listen for webhooks and run the integrations they name')
            [CompletionResult]::new('retry', 'retry', [CompletionResultType]::ParameterValue, 'Queue failed webhook runs again, for `integ serve-hook` to run')
            [CompletionResult]::new('prune', 'prune', [CompletionResultType]::ParameterValue, 'Delete the runs past their retention and free the dedupe keys past `dedupe_for`')
            [CompletionResult]::new('link', 'link', [CompletionResultType]::ParameterValue, 'Print a signed, expiring link that runs an integration with these params')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script, generated from these definitions')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print the manual page (roff), generated from these definitions')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Write a commented starter integrations.toml')
            [CompletionResult]::new('schedule', 'schedule', [CompletionResultType]::ParameterValue, 'Write the crontab lines, systemd units or Kubernetes CronJobs that run scheduled integrations')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'integ;run' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Set a param, as NAME=VALUE')
            [CompletionResult]::new('--param', '--param', [CompletionResultType]::ParameterName, 'Set a param, as NAME=VALUE')
            [CompletionResult]::new('--from', '--from', [CompletionResultType]::ParameterName, 'Cover an explicit window from this date or time (in the schedule''s zone): a backfill')
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'The end of the backfill''s window (not included)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Where run history, locks and watermarks live [default: one per integrations file, under $XDG_STATE_HOME/integ/projects; `integ list` shows it]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour [default: auto, which honours NO_COLOR]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Wait for a running copy of the integration to finish instead of following its `overlap` policy')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Make GET and HEAD requests; show every other request, command and file write instead of doing it')
            [CompletionResult]::new('--scheduled', '--scheduled', [CompletionResultType]::ParameterName, 'Started by a scheduler (cron, a systemd timer): cover the period since the last success up to the latest tick of the schedule, quietly')
            [CompletionResult]::new('--each', '--each', [CompletionResultType]::ParameterName, 'With `--from`/`--to`: one run per interval of the schedule, in order')
            [CompletionResult]::new('--plan', '--plan', [CompletionResultType]::ParameterName, 'Print the window(s) a run now would cover, and where the watermark would move, without running')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success; on failure print the error and the run''s log (for cron)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success; on failure print the error and the run''s log (for cron)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'integ;list' {
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Where run history, locks and watermarks live [default: one per integrations file, under $XDG_STATE_HOME/integ/projects; `integ list` shows it]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour [default: auto, which honours NO_COLOR]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON for scripts instead of a table')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success; on failure print the error and the run''s log (for cron)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success; on failure print the error and the run''s log (for cron)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'integ;check' {
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Where run history, locks and watermarks live [default: one per integrations file, under $XDG_STATE_HOME/integ/projects; `integ list` shows it]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour [default: auto, which honours NO_COLOR]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success; on failure print the error and the run''s log (for cron)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success; on failure print the error and the run''s log (for cron)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'integ;history' {
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'How many runs to show')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'How many runs to show')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Where run history, locks and watermarks live [default: one per integrations file, under $XDG_STATE_HOME/integ/projects; `integ list` shows it]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour [default: auto, which honours NO_COLOR]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('--failed', '--failed', [CompletionResultType]::ParameterName, 'Only failed and interrupted runs')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON for scripts instead of a table')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success; on failure print the error and the run''s log (for cron)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success; on failure print the error and the run''s log (for cron)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'integ;logs' {
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Where run history, locks and watermarks live [default: one per integrations file, under $XDG_STATE_HOME/integ/projects; `integ list` shows it]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour [default: auto, which honours NO_COLOR]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success; on failure print the error and the run''s log (for cron)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success; on failure print the error and the run''s log (for cron)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'integ;output' {
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Where run history, locks and watermarks live [default: one per integrations file, under $XDG_STATE_HOME/integ/projects; `integ list` shows it]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour [default: auto, which honours NO_COLOR]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success; on failure print the error and the run''s log (for cron)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success; on failure print the error and the run''s log (for cron)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'integ;serve-hook' {
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'Where to listen; `0.0.0.0:PORT` to accept other machines, port 0 for any free port')
            [CompletionResult]::new('--workers', '--workers', [CompletionResultType]::ParameterName, 'How many runs at once, across integrations (each also keeps to its `concurrency`); 0 only stores events, to run at a later start')
            [CompletionResult]::new('--max-body', '--max-body', [CompletionResultType]::ParameterName, 'The largest request body accepted, in bytes (larger ones get 413)')
            [CompletionResult]::new('--max-connections', '--max-connections', [CompletionResultType]::ParameterName, 'The most connections open at once; more wait until one closes')
            [CompletionResult]::new('--read-timeout', '--read-timeout', [CompletionResultType]::ParameterName, 'How long a request may take to arrive whole: slower headers close the connection, a slower body gets 408')
            [CompletionResult]::new('--grace', '--grace', [CompletionResultType]::ParameterName, 'How long running integrations may take to finish on SIGTERM')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Where run history, locks and watermarks live [default: one per integrations file, under $XDG_STATE_HOME/integ/projects; `integ list` shows it]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour [default: auto, which honours NO_COLOR]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success; on failure print the error and the run''s log (for cron)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success; on failure print the error and the run''s log (for cron)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'integ;retry' {
            [CompletionResult]::new('--all-failed', '--all-failed', [CompletionResultType]::ParameterName, 'Every failed webhook run of this integration')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Where run history, locks and watermarks live [default: one per integrations file, under $XDG_STATE_HOME/integ/projects; `integ list` shows it]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour [default: auto, which honours NO_COLOR]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success; on failure print the error and the run''s log (for cron)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success; on failure print the error and the run''s log (for cron)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'integ;prune' {
            [CompletionResult]::new('--older-than', '--older-than', [CompletionResultType]::ParameterName, 'Delete the runs older than this, of every integration, instead of each one''s retention')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Where run history, locks and watermarks live [default: one per integrations file, under $XDG_STATE_HOME/integ/projects; `integ list` shows it]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour [default: auto, which honours NO_COLOR]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Count what would be deleted and freed; change nothing')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON for scripts instead of a table')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success; on failure print the error and the run''s log (for cron)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success; on failure print the error and the run''s log (for cron)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'integ;link' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Fix a param in the link, as NAME=VALUE')
            [CompletionResult]::new('--param', '--param', [CompletionResultType]::ParameterName, 'Fix a param in the link, as NAME=VALUE')
            [CompletionResult]::new('--expires', '--expires', [CompletionResultType]::ParameterName, 'How long the link works (at most 7d)')
            [CompletionResult]::new('--base-url', '--base-url', [CompletionResultType]::ParameterName, 'Where the listener is reached, as the person clicking it sees it')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Where run history, locks and watermarks live [default: one per integrations file, under $XDG_STATE_HOME/integ/projects; `integ list` shows it]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour [default: auto, which honours NO_COLOR]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success; on failure print the error and the run''s log (for cron)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success; on failure print the error and the run''s log (for cron)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'integ;completions' {
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Where run history, locks and watermarks live [default: one per integrations file, under $XDG_STATE_HOME/integ/projects; `integ list` shows it]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour [default: auto, which honours NO_COLOR]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success; on failure print the error and the run''s log (for cron)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success; on failure print the error and the run''s log (for cron)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'integ;man' {
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Where run history, locks and watermarks live [default: one per integrations file, under $XDG_STATE_HOME/integ/projects; `integ list` shows it]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour [default: auto, which honours NO_COLOR]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success; on failure print the error and the run''s log (for cron)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success; on failure print the error and the run''s log (for cron)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'integ;init' {
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Where run history, locks and watermarks live [default: one per integrations file, under $XDG_STATE_HOME/integ/projects; `integ list` shows it]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour [default: auto, which honours NO_COLOR]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success; on failure print the error and the run''s log (for cron)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success; on failure print the error and the run''s log (for cron)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'integ;schedule' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Which scheduler the entries are for')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Which scheduler the entries are for')
            [CompletionResult]::new('--out', '--out', [CompletionResultType]::ParameterName, 'Write the files into this directory (`integ.crontab`, `integ-NAME.service` and `.timer`, `integ-NAME.yaml`) instead of printing them')
            [CompletionResult]::new('--binary', '--binary', [CompletionResultType]::ParameterName, 'The integ binary the entries start [default: this one]')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'The user the runs run as: systemd''s `User=`, or whose crontab takes the lines (`crontab -u NAME`); `integ` for the .deb''s listener [default: whoever installs them]')
            [CompletionResult]::new('--pvc', '--pvc', [CompletionResultType]::ParameterName, 'Kubernetes: the PersistentVolumeClaim mounted at the state directory')
            [CompletionResult]::new('--configmap', '--configmap', [CompletionResultType]::ParameterName, 'Kubernetes: the ConfigMap that holds the integrations file')
            [CompletionResult]::new('--image', '--image', [CompletionResultType]::ParameterName, 'Kubernetes: the container image that has the binary at `--binary`')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Where run history, locks and watermarks live [default: one per integrations file, under $XDG_STATE_HOME/integ/projects; `integ list` shows it]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour [default: auto, which honours NO_COLOR]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success; on failure print the error and the run''s log (for cron)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success; on failure print the error and the run''s log (for cron)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'integ;help' {
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run an integration now')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the integrations, their params, triggers and last run')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Validate the integrations file offline and report every problem at once')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'Show past runs, newest first')
            [CompletionResult]::new('logs', 'logs', [CompletionResultType]::ParameterValue, 'Print one run: what started it, its params, how it went, and each attempt''s log')
            [CompletionResult]::new('output', 'output', [CompletionResultType]::ParameterValue, 'Print what one run wrote for the person: its report, its stdout export, a dry run''s plan')
            [CompletionResult]::new('serve-hook', 'serve-hook', [CompletionResultType]::ParameterValue, 'Listen for webhooks and run the integrations they name')
            [CompletionResult]::new('retry', 'retry', [CompletionResultType]::ParameterValue, 'Queue failed webhook runs again, for `integ serve-hook` to run')
            [CompletionResult]::new('prune', 'prune', [CompletionResultType]::ParameterValue, 'Delete the runs past their retention and free the dedupe keys past `dedupe_for`')
            [CompletionResult]::new('link', 'link', [CompletionResultType]::ParameterValue, 'Print a signed, expiring link that runs an integration with these params')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script, generated from these definitions')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print the manual page (roff), generated from these definitions')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Write a commented starter integrations.toml')
            [CompletionResult]::new('schedule', 'schedule', [CompletionResultType]::ParameterValue, 'Write the crontab lines, systemd units or Kubernetes CronJobs that run scheduled integrations')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'integ;help;run' {
            break
        }
        'integ;help;list' {
            break
        }
        'integ;help;check' {
            break
        }
        'integ;help;history' {
            break
        }
        'integ;help;logs' {
            break
        }
        'integ;help;output' {
            break
        }
        'integ;help;serve-hook' {
            break
        }
        'integ;help;retry' {
            break
        }
        'integ;help;prune' {
            break
        }
        'integ;help;link' {
            break
        }
        'integ;help;completions' {
            break
        }
        'integ;help;man' {
            break
        }
        'integ;help;init' {
            break
        }
        'integ;help;schedule' {
            break
        }
        'integ;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
