# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_authctl_global_optspecs
    string join \n socket= json password-stdin h/help V/version
end

function __fish_authctl_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_authctl_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_authctl_using_subcommand
    set -l cmd (__fish_authctl_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c authctl -n "__fish_authctl_needs_command" -l socket -d 'authd\'s socket [default: your own daemon\'s socket if it exists, else /run/authd/authd.sock]' -r -F
complete -c authctl -n "__fish_authctl_needs_command" -l json -d 'Print one JSON object on stdout (errors too: {"error":{"code":..,"message":..}})'
complete -c authctl -n "__fish_authctl_needs_command" -l password-stdin -d 'Read passwords and codes from stdin, one per line, instead of prompting'
complete -c authctl -n "__fish_authctl_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c authctl -n "__fish_authctl_needs_command" -s V -l version -d 'Print version'
complete -c authctl -n "__fish_authctl_needs_command" -f -a "add-user" -d 'Create an account (admin)'
complete -c authctl -n "__fish_authctl_needs_command" -f -a "remove-user" -d 'Delete an account and everything stored for it (admin)'
complete -c authctl -n "__fish_authctl_needs_command" -f -a "list-users" -d 'List account names (admin)'
complete -c authctl -n "__fish_authctl_needs_command" -f -a "show" -d 'Show an account\'s state and its security keys (admin, or the user themself)'
complete -c authctl -n "__fish_authctl_needs_command" -f -a "set-user" -d 'Change an account\'s email, phone or SSO provider, its expiry date or its password-change policy (admin)'
complete -c authctl -n "__fish_authctl_needs_command" -f -a "set-password" -d 'Set an account\'s password without the old one (admin); the policy applies'
complete -c authctl -n "__fish_authctl_needs_command" -f -a "change-password" -d 'Change your password: the current one (and a code when 2FA is on), then the new one'
complete -c authctl -n "__fish_authctl_needs_command" -f -a "send-reset" -d 'Email the account a temporary link to set a new password (admin or self)'
complete -c authctl -n "__fish_authctl_needs_command" -f -a "reset-password" -d 'Set a new password with the token from a reset mail (anyone: the token is the proof)'
complete -c authctl -n "__fish_authctl_needs_command" -f -a "outbox" -d 'List queued and failed outgoing mail and SMS (admin); `retry` and `purge` manage them'
complete -c authctl -n "__fish_authctl_needs_command" -f -a "backup" -d 'Write a consistent online backup of every record to FILE, mode 0600, atomically (admin). Secrets stay encrypted: back up the secret key file separately'
complete -c authctl -n "__fish_authctl_needs_command" -f -a "verify" -d 'Check a password, then a verification code when the account has 2FA (admin, or the user themself); exit 0 when both are right'
complete -c authctl -n "__fish_authctl_needs_command" -f -a "enable-totp" -d 'Start authenticator-app verification: shows a QR code to scan (admin or self; for your own account, your password first)'
complete -c authctl -n "__fish_authctl_needs_command" -f -a "confirm-totp" -d 'Turn authenticator-app verification on with the code the app shows (admin or self)'
complete -c authctl -n "__fish_authctl_needs_command" -f -a "enable-sms" -d 'Start SMS verification: sends a six-digit code to the account\'s phone (admin or self; for your own account, your password first)'
complete -c authctl -n "__fish_authctl_needs_command" -f -a "confirm-sms" -d 'Turn SMS verification on with the code that was sent (admin or self)'
complete -c authctl -n "__fish_authctl_needs_command" -f -a "send-code" -d 'Send a login code by SMS now (admin or self). verify sends one by itself only for accounts whose sole second factor is SMS'
complete -c authctl -n "__fish_authctl_needs_command" -f -a "disable-2fa" -d 'Turn two-factor verification off: needs the password and a current (or recovery) code, from admins too (admin or self)'
complete -c authctl -n "__fish_authctl_needs_command" -f -a "reset-2fa" -d 'Lost device: remove every second factor and the recovery codes (admin)'
complete -c authctl -n "__fish_authctl_needs_command" -f -a "recovery-codes" -d 'Replace the recovery codes with a new set; the old ones stop working (admin, or the user themself with password and code)'
complete -c authctl -n "__fish_authctl_needs_command" -f -a "unlock" -d 'Clear an account\'s lockout (admin)'
complete -c authctl -n "__fish_authctl_needs_command" -f -a "disable" -d 'Disable an account: every login and every request of its own is refused (error code `disabled`) until `enable` (admin). Its lockout, factors and password stay'
complete -c authctl -n "__fish_authctl_needs_command" -f -a "enable" -d 'Enable a disabled account again (admin)'
complete -c authctl -n "__fish_authctl_needs_command" -f -a "log" -d 'Show an account\'s audit events, oldest first (admin, or the user themself)'
complete -c authctl -n "__fish_authctl_needs_command" -f -a "status" -d 'Show the daemon\'s version, uptime and counts (anyone; with --json, admins also get the metrics\' samples)'
complete -c authctl -n "__fish_authctl_needs_command" -f -a "metrics" -d 'Print the daemon\'s metrics in Prometheus text format, for node_exporter\'s textfile collector: logins by method and result, lockouts, the outbox by channel, request latency, connections, the hashing queue (admin)'
complete -c authctl -n "__fish_authctl_needs_command" -f -a "sessions" -d 'List an account\'s portal sessions (authd-web sign-ins): id, created, last used, expires, origin (admin, or the user themself)'
complete -c authctl -n "__fish_authctl_needs_command" -f -a "logout" -d 'End one portal session of an account, or all of them (admin, or the user themself)'
complete -c authctl -n "__fish_authctl_needs_command" -f -a "add-key" -d 'Register a FIDO2 security key as a second factor: touch it when asked (admin, or the user themself with the password and a current code or a touch of a key already registered). The account\'s first second factor brings recovery codes'
complete -c authctl -n "__fish_authctl_needs_command" -f -a "keys" -d 'List an account\'s security keys: id, name, when registered and last used (admin, or the user themself)'
complete -c authctl -n "__fish_authctl_needs_command" -f -a "remove-key" -d 'Remove a security key; needs the password and a touch of a registered key (or a current code), from admins too (admin, or the user themself)'
complete -c authctl -n "__fish_authctl_needs_command" -f -a "import-google-authenticator" -d 'Turn an account\'s authenticator app on with the secret of a pam_google_authenticator file, so the user keeps the phone they enrolled there (admin)'
complete -c authctl -n "__fish_authctl_needs_command" -f -a "import" -d 'Create or update many accounts from standard input, all or nothing (admin)'
complete -c authctl -n "__fish_authctl_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c authctl -n "__fish_authctl_using_subcommand add-user" -l email -d 'Email address, for password-reset mail: ASCII before the `@`, not quoted; an international domain is stored in punycode' -r
complete -c authctl -n "__fish_authctl_using_subcommand add-user" -l phone -d 'Mobile number in international form (+44 7911 123456); stored as E.164' -r
complete -c authctl -n "__fish_authctl_using_subcommand add-user" -l sso -d 'The account signs in at this SSO provider and has no password here' -r
complete -c authctl -n "__fish_authctl_using_subcommand add-user" -l socket -d 'authd\'s socket [default: your own daemon\'s socket if it exists, else /run/authd/authd.sock]' -r -F
complete -c authctl -n "__fish_authctl_using_subcommand add-user" -l json -d 'Print one JSON object on stdout (errors too: {"error":{"code":..,"message":..}})'
complete -c authctl -n "__fish_authctl_using_subcommand add-user" -l password-stdin -d 'Read passwords and codes from stdin, one per line, instead of prompting'
complete -c authctl -n "__fish_authctl_using_subcommand add-user" -s h -l help -d 'Print help'
complete -c authctl -n "__fish_authctl_using_subcommand remove-user" -l socket -d 'authd\'s socket [default: your own daemon\'s socket if it exists, else /run/authd/authd.sock]' -r -F
complete -c authctl -n "__fish_authctl_using_subcommand remove-user" -l json -d 'Print one JSON object on stdout (errors too: {"error":{"code":..,"message":..}})'
complete -c authctl -n "__fish_authctl_using_subcommand remove-user" -l password-stdin -d 'Read passwords and codes from stdin, one per line, instead of prompting'
complete -c authctl -n "__fish_authctl_using_subcommand remove-user" -s h -l help -d 'Print help'
complete -c authctl -n "__fish_authctl_using_subcommand list-users" -l socket -d 'authd\'s socket [default: your own daemon\'s socket if it exists, else /run/authd/authd.sock]' -r -F
complete -c authctl -n "__fish_authctl_using_subcommand list-users" -l long -d 'One line per account with its status (active, disabled, locked until T, expired, must change password), second factors, password age and last login, like `passwd -S -a`; printed page by page as authd answers'
complete -c authctl -n "__fish_authctl_using_subcommand list-users" -l json -d 'Print one JSON object on stdout (errors too: {"error":{"code":..,"message":..}})'
complete -c authctl -n "__fish_authctl_using_subcommand list-users" -l password-stdin -d 'Read passwords and codes from stdin, one per line, instead of prompting'
complete -c authctl -n "__fish_authctl_using_subcommand list-users" -s h -l help -d 'Print help'
complete -c authctl -n "__fish_authctl_using_subcommand show" -l socket -d 'authd\'s socket [default: your own daemon\'s socket if it exists, else /run/authd/authd.sock]' -r -F
complete -c authctl -n "__fish_authctl_using_subcommand show" -l json -d 'Print one JSON object on stdout (errors too: {"error":{"code":..,"message":..}})'
complete -c authctl -n "__fish_authctl_using_subcommand show" -l password-stdin -d 'Read passwords and codes from stdin, one per line, instead of prompting'
complete -c authctl -n "__fish_authctl_using_subcommand show" -s h -l help -d 'Print help'
complete -c authctl -n "__fish_authctl_using_subcommand set-user" -l email -d 'New email address (the same rules as for add-user)' -r
complete -c authctl -n "__fish_authctl_using_subcommand set-user" -l phone -r
complete -c authctl -n "__fish_authctl_using_subcommand set-user" -l sso -d 'Make it an SSO account (its local password is removed)' -r
complete -c authctl -n "__fish_authctl_using_subcommand set-user" -l expires -d 'Refuse logins from this day (YYYY-MM-DD, from 00:00 UTC) or time (RFC 3339, e.g. 2027-03-31T18:00:00Z) on (error code `expired`); `never` removes the date' -r
complete -c authctl -n "__fish_authctl_using_subcommand set-user" -l max-password-age -d 'Days a password may be used before a login asks for a change, or `never`; `default` goes back to [password] max_age of authd.toml' -r
complete -c authctl -n "__fish_authctl_using_subcommand set-user" -l socket -d 'authd\'s socket [default: your own daemon\'s socket if it exists, else /run/authd/authd.sock]' -r -F
complete -c authctl -n "__fish_authctl_using_subcommand set-user" -l no-email -d 'Remove the email address'
complete -c authctl -n "__fish_authctl_using_subcommand set-user" -l no-phone -d 'Remove the phone number'
complete -c authctl -n "__fish_authctl_using_subcommand set-user" -l no-sso -d 'Make it a local account again (set a password afterwards)'
complete -c authctl -n "__fish_authctl_using_subcommand set-user" -l must-change-password -d 'The next login must change the password: verify reports password_change_required, PAM\'s account step asks for a new one'
complete -c authctl -n "__fish_authctl_using_subcommand set-user" -l no-must-change-password -d 'Withdraw --must-change-password'
complete -c authctl -n "__fish_authctl_using_subcommand set-user" -l json -d 'Print one JSON object on stdout (errors too: {"error":{"code":..,"message":..}})'
complete -c authctl -n "__fish_authctl_using_subcommand set-user" -l password-stdin -d 'Read passwords and codes from stdin, one per line, instead of prompting'
complete -c authctl -n "__fish_authctl_using_subcommand set-user" -s h -l help -d 'Print help'
complete -c authctl -n "__fish_authctl_using_subcommand set-password" -l socket -d 'authd\'s socket [default: your own daemon\'s socket if it exists, else /run/authd/authd.sock]' -r -F
complete -c authctl -n "__fish_authctl_using_subcommand set-password" -l json -d 'Print one JSON object on stdout (errors too: {"error":{"code":..,"message":..}})'
complete -c authctl -n "__fish_authctl_using_subcommand set-password" -l password-stdin -d 'Read passwords and codes from stdin, one per line, instead of prompting'
complete -c authctl -n "__fish_authctl_using_subcommand set-password" -s h -l help -d 'Print help'
complete -c authctl -n "__fish_authctl_using_subcommand change-password" -l code -d 'Second-factor code (app, SMS or recovery code), when the account has 2FA; `-` reads it after the current password (prompt, or the next stdin line), out of sight of other users' -r
complete -c authctl -n "__fish_authctl_using_subcommand change-password" -l socket -d 'authd\'s socket [default: your own daemon\'s socket if it exists, else /run/authd/authd.sock]' -r -F
complete -c authctl -n "__fish_authctl_using_subcommand change-password" -l email-link -d 'Instead of asking for the new password, check the current one and email a link to set a new one'
complete -c authctl -n "__fish_authctl_using_subcommand change-password" -l json -d 'Print one JSON object on stdout (errors too: {"error":{"code":..,"message":..}})'
complete -c authctl -n "__fish_authctl_using_subcommand change-password" -l password-stdin -d 'Read passwords and codes from stdin, one per line, instead of prompting'
complete -c authctl -n "__fish_authctl_using_subcommand change-password" -s h -l help -d 'Print help'
complete -c authctl -n "__fish_authctl_using_subcommand send-reset" -l socket -d 'authd\'s socket [default: your own daemon\'s socket if it exists, else /run/authd/authd.sock]' -r -F
complete -c authctl -n "__fish_authctl_using_subcommand send-reset" -l json -d 'Print one JSON object on stdout (errors too: {"error":{"code":..,"message":..}})'
complete -c authctl -n "__fish_authctl_using_subcommand send-reset" -l password-stdin -d 'Read passwords and codes from stdin, one per line, instead of prompting'
complete -c authctl -n "__fish_authctl_using_subcommand send-reset" -s h -l help -d 'Print help'
complete -c authctl -n "__fish_authctl_using_subcommand reset-password" -l token -d 'The token from the mail; `-` asks for it instead (or reads it as the first stdin line with --password-stdin), keeping it out of the process list' -r
complete -c authctl -n "__fish_authctl_using_subcommand reset-password" -l socket -d 'authd\'s socket [default: your own daemon\'s socket if it exists, else /run/authd/authd.sock]' -r -F
complete -c authctl -n "__fish_authctl_using_subcommand reset-password" -l json -d 'Print one JSON object on stdout (errors too: {"error":{"code":..,"message":..}})'
complete -c authctl -n "__fish_authctl_using_subcommand reset-password" -l password-stdin -d 'Read passwords and codes from stdin, one per line, instead of prompting'
complete -c authctl -n "__fish_authctl_using_subcommand reset-password" -s h -l help -d 'Print help'
complete -c authctl -n "__fish_authctl_using_subcommand outbox; and not __fish_seen_subcommand_from retry purge help" -l socket -d 'authd\'s socket [default: your own daemon\'s socket if it exists, else /run/authd/authd.sock]' -r -F
complete -c authctl -n "__fish_authctl_using_subcommand outbox; and not __fish_seen_subcommand_from retry purge help" -l json -d 'Print one JSON object on stdout (errors too: {"error":{"code":..,"message":..}})'
complete -c authctl -n "__fish_authctl_using_subcommand outbox; and not __fish_seen_subcommand_from retry purge help" -l password-stdin -d 'Read passwords and codes from stdin, one per line, instead of prompting'
complete -c authctl -n "__fish_authctl_using_subcommand outbox; and not __fish_seen_subcommand_from retry purge help" -s h -l help -d 'Print help'
complete -c authctl -n "__fish_authctl_using_subcommand outbox; and not __fish_seen_subcommand_from retry purge help" -f -a "retry" -d 'Put messages back in the queue, due now (admin). A given-up mail gets a new retry period; an SMS login code past its validity is dropped instead, never sent'
complete -c authctl -n "__fish_authctl_using_subcommand outbox; and not __fish_seen_subcommand_from retry purge help" -f -a "purge" -d 'Remove messages from the outbox (admin): one, every given-up one, or the records of messages delivered before a date (kept for `outbox.keep_delivered`)'
complete -c authctl -n "__fish_authctl_using_subcommand outbox; and not __fish_seen_subcommand_from retry purge help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c authctl -n "__fish_authctl_using_subcommand outbox; and __fish_seen_subcommand_from retry" -l socket -d 'authd\'s socket [default: your own daemon\'s socket if it exists, else /run/authd/authd.sock]' -r -F
complete -c authctl -n "__fish_authctl_using_subcommand outbox; and __fish_seen_subcommand_from retry" -l failed -d 'Every message given up on (listed as failed)'
complete -c authctl -n "__fish_authctl_using_subcommand outbox; and __fish_seen_subcommand_from retry" -l json -d 'Print one JSON object on stdout (errors too: {"error":{"code":..,"message":..}})'
complete -c authctl -n "__fish_authctl_using_subcommand outbox; and __fish_seen_subcommand_from retry" -l password-stdin -d 'Read passwords and codes from stdin, one per line, instead of prompting'
complete -c authctl -n "__fish_authctl_using_subcommand outbox; and __fish_seen_subcommand_from retry" -s h -l help -d 'Print help'
complete -c authctl -n "__fish_authctl_using_subcommand outbox; and __fish_seen_subcommand_from purge" -l delivered-before -d 'Every delivered message delivered before DATE (YYYY-MM-DD, from 00:00 UTC, or an RFC 3339 time)' -r
complete -c authctl -n "__fish_authctl_using_subcommand outbox; and __fish_seen_subcommand_from purge" -l socket -d 'authd\'s socket [default: your own daemon\'s socket if it exists, else /run/authd/authd.sock]' -r -F
complete -c authctl -n "__fish_authctl_using_subcommand outbox; and __fish_seen_subcommand_from purge" -l failed -d 'Every message given up on (listed as failed)'
complete -c authctl -n "__fish_authctl_using_subcommand outbox; and __fish_seen_subcommand_from purge" -l json -d 'Print one JSON object on stdout (errors too: {"error":{"code":..,"message":..}})'
complete -c authctl -n "__fish_authctl_using_subcommand outbox; and __fish_seen_subcommand_from purge" -l password-stdin -d 'Read passwords and codes from stdin, one per line, instead of prompting'
complete -c authctl -n "__fish_authctl_using_subcommand outbox; and __fish_seen_subcommand_from purge" -s h -l help -d 'Print help'
complete -c authctl -n "__fish_authctl_using_subcommand outbox; and __fish_seen_subcommand_from help" -f -a "retry" -d 'Put messages back in the queue, due now (admin). A given-up mail gets a new retry period; an SMS login code past its validity is dropped instead, never sent'
complete -c authctl -n "__fish_authctl_using_subcommand outbox; and __fish_seen_subcommand_from help" -f -a "purge" -d 'Remove messages from the outbox (admin): one, every given-up one, or the records of messages delivered before a date (kept for `outbox.keep_delivered`)'
complete -c authctl -n "__fish_authctl_using_subcommand outbox; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c authctl -n "__fish_authctl_using_subcommand backup" -l output -d 'Where to write the backup; `-` is standard output' -r -F
complete -c authctl -n "__fish_authctl_using_subcommand backup" -l socket -d 'authd\'s socket [default: your own daemon\'s socket if it exists, else /run/authd/authd.sock]' -r -F
complete -c authctl -n "__fish_authctl_using_subcommand backup" -l json -d 'Print one JSON object on stdout (errors too: {"error":{"code":..,"message":..}})'
complete -c authctl -n "__fish_authctl_using_subcommand backup" -l password-stdin -d 'Read passwords and codes from stdin, one per line, instead of prompting'
complete -c authctl -n "__fish_authctl_using_subcommand backup" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c authctl -n "__fish_authctl_using_subcommand verify" -l code -d 'Verification code (authenticator app, SMS or recovery code); asked for when needed and not given; `-` reads it after the password (prompt, or the next stdin line), out of sight of other users' -r
complete -c authctl -n "__fish_authctl_using_subcommand verify" -l socket -d 'authd\'s socket [default: your own daemon\'s socket if it exists, else /run/authd/authd.sock]' -r -F
complete -c authctl -n "__fish_authctl_using_subcommand verify" -l json -d 'Print one JSON object on stdout (errors too: {"error":{"code":..,"message":..}})'
complete -c authctl -n "__fish_authctl_using_subcommand verify" -l password-stdin -d 'Read passwords and codes from stdin, one per line, instead of prompting'
complete -c authctl -n "__fish_authctl_using_subcommand verify" -s h -l help -d 'Print help'
complete -c authctl -n "__fish_authctl_using_subcommand enable-totp" -l qr-png -d 'Also write the QR code as a PNG image to FILE (mode 0600, replaced atomically; a symbolic link is refused): it holds the secret' -r -F
complete -c authctl -n "__fish_authctl_using_subcommand enable-totp" -l code -d 'For your own account, which needs your password and, when a second factor is on already, a current (or recovery) code; `-` reads it after the password' -r
complete -c authctl -n "__fish_authctl_using_subcommand enable-totp" -l socket -d 'authd\'s socket [default: your own daemon\'s socket if it exists, else /run/authd/authd.sock]' -r -F
complete -c authctl -n "__fish_authctl_using_subcommand enable-totp" -l json -d 'Print one JSON object on stdout (errors too: {"error":{"code":..,"message":..}})'
complete -c authctl -n "__fish_authctl_using_subcommand enable-totp" -l password-stdin -d 'Read passwords and codes from stdin, one per line, instead of prompting'
complete -c authctl -n "__fish_authctl_using_subcommand enable-totp" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c authctl -n "__fish_authctl_using_subcommand confirm-totp" -l socket -d 'authd\'s socket [default: your own daemon\'s socket if it exists, else /run/authd/authd.sock]' -r -F
complete -c authctl -n "__fish_authctl_using_subcommand confirm-totp" -l json -d 'Print one JSON object on stdout (errors too: {"error":{"code":..,"message":..}})'
complete -c authctl -n "__fish_authctl_using_subcommand confirm-totp" -l password-stdin -d 'Read passwords and codes from stdin, one per line, instead of prompting'
complete -c authctl -n "__fish_authctl_using_subcommand confirm-totp" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c authctl -n "__fish_authctl_using_subcommand enable-sms" -l phone -d 'Set the account\'s mobile number first (international form, +44 7911 123456)' -r
complete -c authctl -n "__fish_authctl_using_subcommand enable-sms" -l code -d 'For your own account, which needs your password and, when a second factor is on already, a current (or recovery) code; `-` reads it after the password' -r
complete -c authctl -n "__fish_authctl_using_subcommand enable-sms" -l socket -d 'authd\'s socket [default: your own daemon\'s socket if it exists, else /run/authd/authd.sock]' -r -F
complete -c authctl -n "__fish_authctl_using_subcommand enable-sms" -l json -d 'Print one JSON object on stdout (errors too: {"error":{"code":..,"message":..}})'
complete -c authctl -n "__fish_authctl_using_subcommand enable-sms" -l password-stdin -d 'Read passwords and codes from stdin, one per line, instead of prompting'
complete -c authctl -n "__fish_authctl_using_subcommand enable-sms" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c authctl -n "__fish_authctl_using_subcommand confirm-sms" -l socket -d 'authd\'s socket [default: your own daemon\'s socket if it exists, else /run/authd/authd.sock]' -r -F
complete -c authctl -n "__fish_authctl_using_subcommand confirm-sms" -l json -d 'Print one JSON object on stdout (errors too: {"error":{"code":..,"message":..}})'
complete -c authctl -n "__fish_authctl_using_subcommand confirm-sms" -l password-stdin -d 'Read passwords and codes from stdin, one per line, instead of prompting'
complete -c authctl -n "__fish_authctl_using_subcommand confirm-sms" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c authctl -n "__fish_authctl_using_subcommand send-code" -l socket -d 'authd\'s socket [default: your own daemon\'s socket if it exists, else /run/authd/authd.sock]' -r -F
complete -c authctl -n "__fish_authctl_using_subcommand send-code" -l json -d 'Print one JSON object on stdout (errors too: {"error":{"code":..,"message":..}})'
complete -c authctl -n "__fish_authctl_using_subcommand send-code" -l password-stdin -d 'Read passwords and codes from stdin, one per line, instead of prompting'
complete -c authctl -n "__fish_authctl_using_subcommand send-code" -s h -l help -d 'Print help'
complete -c authctl -n "__fish_authctl_using_subcommand disable-2fa" -l method -d 'Which verification to remove' -r -f -a "totp\t''
sms\t''
all\t''
key\t'Every security key'"
complete -c authctl -n "__fish_authctl_using_subcommand disable-2fa" -l code -d 'A current code (app or SMS), or a recovery code; `-` reads it after the password (prompt, or the next stdin line)' -r
complete -c authctl -n "__fish_authctl_using_subcommand disable-2fa" -l socket -d 'authd\'s socket [default: your own daemon\'s socket if it exists, else /run/authd/authd.sock]' -r -F
complete -c authctl -n "__fish_authctl_using_subcommand disable-2fa" -l json -d 'Print one JSON object on stdout (errors too: {"error":{"code":..,"message":..}})'
complete -c authctl -n "__fish_authctl_using_subcommand disable-2fa" -l password-stdin -d 'Read passwords and codes from stdin, one per line, instead of prompting'
complete -c authctl -n "__fish_authctl_using_subcommand disable-2fa" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c authctl -n "__fish_authctl_using_subcommand reset-2fa" -l socket -d 'authd\'s socket [default: your own daemon\'s socket if it exists, else /run/authd/authd.sock]' -r -F
complete -c authctl -n "__fish_authctl_using_subcommand reset-2fa" -l json -d 'Print one JSON object on stdout (errors too: {"error":{"code":..,"message":..}})'
complete -c authctl -n "__fish_authctl_using_subcommand reset-2fa" -l password-stdin -d 'Read passwords and codes from stdin, one per line, instead of prompting'
complete -c authctl -n "__fish_authctl_using_subcommand reset-2fa" -s h -l help -d 'Print help'
complete -c authctl -n "__fish_authctl_using_subcommand recovery-codes" -l code -d 'A current code (app or SMS), or a recovery code (self-service only); `-` reads it after the password (prompt, or the next stdin line)' -r
complete -c authctl -n "__fish_authctl_using_subcommand recovery-codes" -l socket -d 'authd\'s socket [default: your own daemon\'s socket if it exists, else /run/authd/authd.sock]' -r -F
complete -c authctl -n "__fish_authctl_using_subcommand recovery-codes" -l regenerate -d 'Make a new set (required: codes are never shown again after they are made)'
complete -c authctl -n "__fish_authctl_using_subcommand recovery-codes" -l json -d 'Print one JSON object on stdout (errors too: {"error":{"code":..,"message":..}})'
complete -c authctl -n "__fish_authctl_using_subcommand recovery-codes" -l password-stdin -d 'Read passwords and codes from stdin, one per line, instead of prompting'
complete -c authctl -n "__fish_authctl_using_subcommand recovery-codes" -s h -l help -d 'Print help'
complete -c authctl -n "__fish_authctl_using_subcommand unlock" -l socket -d 'authd\'s socket [default: your own daemon\'s socket if it exists, else /run/authd/authd.sock]' -r -F
complete -c authctl -n "__fish_authctl_using_subcommand unlock" -l json -d 'Print one JSON object on stdout (errors too: {"error":{"code":..,"message":..}})'
complete -c authctl -n "__fish_authctl_using_subcommand unlock" -l password-stdin -d 'Read passwords and codes from stdin, one per line, instead of prompting'
complete -c authctl -n "__fish_authctl_using_subcommand unlock" -s h -l help -d 'Print help'
complete -c authctl -n "__fish_authctl_using_subcommand disable" -l reason -d 'Why, for the audit log and `show` (at most 200 characters)' -r
complete -c authctl -n "__fish_authctl_using_subcommand disable" -l socket -d 'authd\'s socket [default: your own daemon\'s socket if it exists, else /run/authd/authd.sock]' -r -F
complete -c authctl -n "__fish_authctl_using_subcommand disable" -l json -d 'Print one JSON object on stdout (errors too: {"error":{"code":..,"message":..}})'
complete -c authctl -n "__fish_authctl_using_subcommand disable" -l password-stdin -d 'Read passwords and codes from stdin, one per line, instead of prompting'
complete -c authctl -n "__fish_authctl_using_subcommand disable" -s h -l help -d 'Print help'
complete -c authctl -n "__fish_authctl_using_subcommand enable" -l socket -d 'authd\'s socket [default: your own daemon\'s socket if it exists, else /run/authd/authd.sock]' -r -F
complete -c authctl -n "__fish_authctl_using_subcommand enable" -l json -d 'Print one JSON object on stdout (errors too: {"error":{"code":..,"message":..}})'
complete -c authctl -n "__fish_authctl_using_subcommand enable" -l password-stdin -d 'Read passwords and codes from stdin, one per line, instead of prompting'
complete -c authctl -n "__fish_authctl_using_subcommand enable" -s h -l help -d 'Print help'
complete -c authctl -n "__fish_authctl_using_subcommand log" -l limit -d 'How many of the newest events to show' -r
complete -c authctl -n "__fish_authctl_using_subcommand log" -l socket -d 'authd\'s socket [default: your own daemon\'s socket if it exists, else /run/authd/authd.sock]' -r -F
complete -c authctl -n "__fish_authctl_using_subcommand log" -l json -d 'Print one JSON object on stdout (errors too: {"error":{"code":..,"message":..}})'
complete -c authctl -n "__fish_authctl_using_subcommand log" -l password-stdin -d 'Read passwords and codes from stdin, one per line, instead of prompting'
complete -c authctl -n "__fish_authctl_using_subcommand log" -s h -l help -d 'Print help'
complete -c authctl -n "__fish_authctl_using_subcommand status" -l socket -d 'authd\'s socket [default: your own daemon\'s socket if it exists, else /run/authd/authd.sock]' -r -F
complete -c authctl -n "__fish_authctl_using_subcommand status" -l json -d 'Print one JSON object on stdout (errors too: {"error":{"code":..,"message":..}})'
complete -c authctl -n "__fish_authctl_using_subcommand status" -l password-stdin -d 'Read passwords and codes from stdin, one per line, instead of prompting'
complete -c authctl -n "__fish_authctl_using_subcommand status" -s h -l help -d 'Print help'
complete -c authctl -n "__fish_authctl_using_subcommand metrics" -l socket -d 'authd\'s socket [default: your own daemon\'s socket if it exists, else /run/authd/authd.sock]' -r -F
complete -c authctl -n "__fish_authctl_using_subcommand metrics" -l json -d 'Print one JSON object on stdout (errors too: {"error":{"code":..,"message":..}})'
complete -c authctl -n "__fish_authctl_using_subcommand metrics" -l password-stdin -d 'Read passwords and codes from stdin, one per line, instead of prompting'
complete -c authctl -n "__fish_authctl_using_subcommand metrics" -s h -l help -d 'Print help'
complete -c authctl -n "__fish_authctl_using_subcommand sessions" -l socket -d 'authd\'s socket [default: your own daemon\'s socket if it exists, else /run/authd/authd.sock]' -r -F
complete -c authctl -n "__fish_authctl_using_subcommand sessions" -l json -d 'Print one JSON object on stdout (errors too: {"error":{"code":..,"message":..}})'
complete -c authctl -n "__fish_authctl_using_subcommand sessions" -l password-stdin -d 'Read passwords and codes from stdin, one per line, instead of prompting'
complete -c authctl -n "__fish_authctl_using_subcommand sessions" -s h -l help -d 'Print help'
complete -c authctl -n "__fish_authctl_using_subcommand logout" -l socket -d 'authd\'s socket [default: your own daemon\'s socket if it exists, else /run/authd/authd.sock]' -r -F
complete -c authctl -n "__fish_authctl_using_subcommand logout" -l json -d 'Print one JSON object on stdout (errors too: {"error":{"code":..,"message":..}})'
complete -c authctl -n "__fish_authctl_using_subcommand logout" -l password-stdin -d 'Read passwords and codes from stdin, one per line, instead of prompting'
complete -c authctl -n "__fish_authctl_using_subcommand logout" -s h -l help -d 'Print help'
complete -c authctl -n "__fish_authctl_using_subcommand add-key" -l name -d 'What to call the key (shown by `keys`) [default: security key]' -r
complete -c authctl -n "__fish_authctl_using_subcommand add-key" -l code -d 'Prove with a current code (app or SMS) or a recovery code instead of a touch; `-` reads it after the password' -r
complete -c authctl -n "__fish_authctl_using_subcommand add-key" -l socket -d 'authd\'s socket [default: your own daemon\'s socket if it exists, else /run/authd/authd.sock]' -r -F
complete -c authctl -n "__fish_authctl_using_subcommand add-key" -l json -d 'Print one JSON object on stdout (errors too: {"error":{"code":..,"message":..}})'
complete -c authctl -n "__fish_authctl_using_subcommand add-key" -l password-stdin -d 'Read passwords and codes from stdin, one per line, instead of prompting'
complete -c authctl -n "__fish_authctl_using_subcommand add-key" -s h -l help -d 'Print help'
complete -c authctl -n "__fish_authctl_using_subcommand keys" -l socket -d 'authd\'s socket [default: your own daemon\'s socket if it exists, else /run/authd/authd.sock]' -r -F
complete -c authctl -n "__fish_authctl_using_subcommand keys" -l json -d 'Print one JSON object on stdout (errors too: {"error":{"code":..,"message":..}})'
complete -c authctl -n "__fish_authctl_using_subcommand keys" -l password-stdin -d 'Read passwords and codes from stdin, one per line, instead of prompting'
complete -c authctl -n "__fish_authctl_using_subcommand keys" -s h -l help -d 'Print help'
complete -c authctl -n "__fish_authctl_using_subcommand remove-key" -l code -d 'Prove with a current code (app or SMS) or a recovery code instead of a touch; `-` reads it after the password' -r
complete -c authctl -n "__fish_authctl_using_subcommand remove-key" -l socket -d 'authd\'s socket [default: your own daemon\'s socket if it exists, else /run/authd/authd.sock]' -r -F
complete -c authctl -n "__fish_authctl_using_subcommand remove-key" -l json -d 'Print one JSON object on stdout (errors too: {"error":{"code":..,"message":..}})'
complete -c authctl -n "__fish_authctl_using_subcommand remove-key" -l password-stdin -d 'Read passwords and codes from stdin, one per line, instead of prompting'
complete -c authctl -n "__fish_authctl_using_subcommand remove-key" -s h -l help -d 'Print help'
complete -c authctl -n "__fish_authctl_using_subcommand import-google-authenticator" -l socket -d 'authd\'s socket [default: your own daemon\'s socket if it exists, else /run/authd/authd.sock]' -r -F
complete -c authctl -n "__fish_authctl_using_subcommand import-google-authenticator" -l replace -d 'Replace the account\'s authenticator app when it is on already (otherwise refused, exit 65)'
complete -c authctl -n "__fish_authctl_using_subcommand import-google-authenticator" -l json -d 'Print one JSON object on stdout (errors too: {"error":{"code":..,"message":..}})'
complete -c authctl -n "__fish_authctl_using_subcommand import-google-authenticator" -l password-stdin -d 'Read passwords and codes from stdin, one per line, instead of prompting'
complete -c authctl -n "__fish_authctl_using_subcommand import-google-authenticator" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c authctl -n "__fish_authctl_using_subcommand import" -l format -d 'How the lines on standard input are written' -r -f -a "chpasswd\t'`name:password` (or `name:HASH` with -e), as chpasswd(8) reads'
jsonl\t'One JSON object per line'"
complete -c authctl -n "__fish_authctl_using_subcommand import" -l socket -d 'authd\'s socket [default: your own daemon\'s socket if it exists, else /run/authd/authd.sock]' -r -F
complete -c authctl -n "__fish_authctl_using_subcommand import" -s e -l encrypted -d 'chpasswd lines carry password hashes, not passwords'
complete -c authctl -n "__fish_authctl_using_subcommand import" -l dry-run -d 'Check every line and say what would be created or updated; write nothing'
complete -c authctl -n "__fish_authctl_using_subcommand import" -l json -d 'Print one JSON object on stdout (errors too: {"error":{"code":..,"message":..}})'
complete -c authctl -n "__fish_authctl_using_subcommand import" -l password-stdin -d 'Read passwords and codes from stdin, one per line, instead of prompting'
complete -c authctl -n "__fish_authctl_using_subcommand import" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c authctl -n "__fish_authctl_using_subcommand help; and not __fish_seen_subcommand_from add-user remove-user list-users show set-user set-password change-password send-reset reset-password outbox backup verify enable-totp confirm-totp enable-sms confirm-sms send-code disable-2fa reset-2fa recovery-codes unlock disable enable log status metrics sessions logout add-key keys remove-key import-google-authenticator import help" -f -a "add-user" -d 'Create an account (admin)'
complete -c authctl -n "__fish_authctl_using_subcommand help; and not __fish_seen_subcommand_from add-user remove-user list-users show set-user set-password change-password send-reset reset-password outbox backup verify enable-totp confirm-totp enable-sms confirm-sms send-code disable-2fa reset-2fa recovery-codes unlock disable enable log status metrics sessions logout add-key keys remove-key import-google-authenticator import help" -f -a "remove-user" -d 'Delete an account and everything stored for it (admin)'
complete -c authctl -n "__fish_authctl_using_subcommand help; and not __fish_seen_subcommand_from add-user remove-user list-users show set-user set-password change-password send-reset reset-password outbox backup verify enable-totp confirm-totp enable-sms confirm-sms send-code disable-2fa reset-2fa recovery-codes unlock disable enable log status metrics sessions logout add-key keys remove-key import-google-authenticator import help" -f -a "list-users" -d 'List account names (admin)'
complete -c authctl -n "__fish_authctl_using_subcommand help; and not __fish_seen_subcommand_from add-user remove-user list-users show set-user set-password change-password send-reset reset-password outbox backup verify enable-totp confirm-totp enable-sms confirm-sms send-code disable-2fa reset-2fa recovery-codes unlock disable enable log status metrics sessions logout add-key keys remove-key import-google-authenticator import help" -f -a "show" -d 'Show an account\'s state and its security keys (admin, or the user themself)'
complete -c authctl -n "__fish_authctl_using_subcommand help; and not __fish_seen_subcommand_from add-user remove-user list-users show set-user set-password change-password send-reset reset-password outbox backup verify enable-totp confirm-totp enable-sms confirm-sms send-code disable-2fa reset-2fa recovery-codes unlock disable enable log status metrics sessions logout add-key keys remove-key import-google-authenticator import help" -f -a "set-user" -d 'Change an account\'s email, phone or SSO provider, its expiry date or its password-change policy (admin)'
complete -c authctl -n "__fish_authctl_using_subcommand help; and not __fish_seen_subcommand_from add-user remove-user list-users show set-user set-password change-password send-reset reset-password outbox backup verify enable-totp confirm-totp enable-sms confirm-sms send-code disable-2fa reset-2fa recovery-codes unlock disable enable log status metrics sessions logout add-key keys remove-key import-google-authenticator import help" -f -a "set-password" -d 'Set an account\'s password without the old one (admin); the policy applies'
complete -c authctl -n "__fish_authctl_using_subcommand help; and not __fish_seen_subcommand_from add-user remove-user list-users show set-user set-password change-password send-reset reset-password outbox backup verify enable-totp confirm-totp enable-sms confirm-sms send-code disable-2fa reset-2fa recovery-codes unlock disable enable log status metrics sessions logout add-key keys remove-key import-google-authenticator import help" -f -a "change-password" -d 'Change your password: the current one (and a code when 2FA is on), then the new one'
complete -c authctl -n "__fish_authctl_using_subcommand help; and not __fish_seen_subcommand_from add-user remove-user list-users show set-user set-password change-password send-reset reset-password outbox backup verify enable-totp confirm-totp enable-sms confirm-sms send-code disable-2fa reset-2fa recovery-codes unlock disable enable log status metrics sessions logout add-key keys remove-key import-google-authenticator import help" -f -a "send-reset" -d 'Email the account a temporary link to set a new password (admin or self)'
complete -c authctl -n "__fish_authctl_using_subcommand help; and not __fish_seen_subcommand_from add-user remove-user list-users show set-user set-password change-password send-reset reset-password outbox backup verify enable-totp confirm-totp enable-sms confirm-sms send-code disable-2fa reset-2fa recovery-codes unlock disable enable log status metrics sessions logout add-key keys remove-key import-google-authenticator import help" -f -a "reset-password" -d 'Set a new password with the token from a reset mail (anyone: the token is the proof)'
complete -c authctl -n "__fish_authctl_using_subcommand help; and not __fish_seen_subcommand_from add-user remove-user list-users show set-user set-password change-password send-reset reset-password outbox backup verify enable-totp confirm-totp enable-sms confirm-sms send-code disable-2fa reset-2fa recovery-codes unlock disable enable log status metrics sessions logout add-key keys remove-key import-google-authenticator import help" -f -a "outbox" -d 'List queued and failed outgoing mail and SMS (admin); `retry` and `purge` manage them'
complete -c authctl -n "__fish_authctl_using_subcommand help; and not __fish_seen_subcommand_from add-user remove-user list-users show set-user set-password change-password send-reset reset-password outbox backup verify enable-totp confirm-totp enable-sms confirm-sms send-code disable-2fa reset-2fa recovery-codes unlock disable enable log status metrics sessions logout add-key keys remove-key import-google-authenticator import help" -f -a "backup" -d 'Write a consistent online backup of every record to FILE, mode 0600, atomically (admin). Secrets stay encrypted: back up the secret key file separately'
complete -c authctl -n "__fish_authctl_using_subcommand help; and not __fish_seen_subcommand_from add-user remove-user list-users show set-user set-password change-password send-reset reset-password outbox backup verify enable-totp confirm-totp enable-sms confirm-sms send-code disable-2fa reset-2fa recovery-codes unlock disable enable log status metrics sessions logout add-key keys remove-key import-google-authenticator import help" -f -a "verify" -d 'Check a password, then a verification code when the account has 2FA (admin, or the user themself); exit 0 when both are right'
complete -c authctl -n "__fish_authctl_using_subcommand help; and not __fish_seen_subcommand_from add-user remove-user list-users show set-user set-password change-password send-reset reset-password outbox backup verify enable-totp confirm-totp enable-sms confirm-sms send-code disable-2fa reset-2fa recovery-codes unlock disable enable log status metrics sessions logout add-key keys remove-key import-google-authenticator import help" -f -a "enable-totp" -d 'Start authenticator-app verification: shows a QR code to scan (admin or self; for your own account, your password first)'
complete -c authctl -n "__fish_authctl_using_subcommand help; and not __fish_seen_subcommand_from add-user remove-user list-users show set-user set-password change-password send-reset reset-password outbox backup verify enable-totp confirm-totp enable-sms confirm-sms send-code disable-2fa reset-2fa recovery-codes unlock disable enable log status metrics sessions logout add-key keys remove-key import-google-authenticator import help" -f -a "confirm-totp" -d 'Turn authenticator-app verification on with the code the app shows (admin or self)'
complete -c authctl -n "__fish_authctl_using_subcommand help; and not __fish_seen_subcommand_from add-user remove-user list-users show set-user set-password change-password send-reset reset-password outbox backup verify enable-totp confirm-totp enable-sms confirm-sms send-code disable-2fa reset-2fa recovery-codes unlock disable enable log status metrics sessions logout add-key keys remove-key import-google-authenticator import help" -f -a "enable-sms" -d 'Start SMS verification: sends a six-digit code to the account\'s phone (admin or self; for your own account, your password first)'
complete -c authctl -n "__fish_authctl_using_subcommand help; and not __fish_seen_subcommand_from add-user remove-user list-users show set-user set-password change-password send-reset reset-password outbox backup verify enable-totp confirm-totp enable-sms confirm-sms send-code disable-2fa reset-2fa recovery-codes unlock disable enable log status metrics sessions logout add-key keys remove-key import-google-authenticator import help" -f -a "confirm-sms" -d 'Turn SMS verification on with the code that was sent (admin or self)'
complete -c authctl -n "__fish_authctl_using_subcommand help; and not __fish_seen_subcommand_from add-user remove-user list-users show set-user set-password change-password send-reset reset-password outbox backup verify enable-totp confirm-totp enable-sms confirm-sms send-code disable-2fa reset-2fa recovery-codes unlock disable enable log status metrics sessions logout add-key keys remove-key import-google-authenticator import help" -f -a "send-code" -d 'Send a login code by SMS now (admin or self). verify sends one by itself only for accounts whose sole second factor is SMS'
complete -c authctl -n "__fish_authctl_using_subcommand help; and not __fish_seen_subcommand_from add-user remove-user list-users show set-user set-password change-password send-reset reset-password outbox backup verify enable-totp confirm-totp enable-sms confirm-sms send-code disable-2fa reset-2fa recovery-codes unlock disable enable log status metrics sessions logout add-key keys remove-key import-google-authenticator import help" -f -a "disable-2fa" -d 'Turn two-factor verification off: needs the password and a current (or recovery) code, from admins too (admin or self)'
complete -c authctl -n "__fish_authctl_using_subcommand help; and not __fish_seen_subcommand_from add-user remove-user list-users show set-user set-password change-password send-reset reset-password outbox backup verify enable-totp confirm-totp enable-sms confirm-sms send-code disable-2fa reset-2fa recovery-codes unlock disable enable log status metrics sessions logout add-key keys remove-key import-google-authenticator import help" -f -a "reset-2fa" -d 'Lost device: remove every second factor and the recovery codes (admin)'
complete -c authctl -n "__fish_authctl_using_subcommand help; and not __fish_seen_subcommand_from add-user remove-user list-users show set-user set-password change-password send-reset reset-password outbox backup verify enable-totp confirm-totp enable-sms confirm-sms send-code disable-2fa reset-2fa recovery-codes unlock disable enable log status metrics sessions logout add-key keys remove-key import-google-authenticator import help" -f -a "recovery-codes" -d 'Replace the recovery codes with a new set; the old ones stop working (admin, or the user themself with password and code)'
complete -c authctl -n "__fish_authctl_using_subcommand help; and not __fish_seen_subcommand_from add-user remove-user list-users show set-user set-password change-password send-reset reset-password outbox backup verify enable-totp confirm-totp enable-sms confirm-sms send-code disable-2fa reset-2fa recovery-codes unlock disable enable log status metrics sessions logout add-key keys remove-key import-google-authenticator import help" -f -a "unlock" -d 'Clear an account\'s lockout (admin)'
complete -c authctl -n "__fish_authctl_using_subcommand help; and not __fish_seen_subcommand_from add-user remove-user list-users show set-user set-password change-password send-reset reset-password outbox backup verify enable-totp confirm-totp enable-sms confirm-sms send-code disable-2fa reset-2fa recovery-codes unlock disable enable log status metrics sessions logout add-key keys remove-key import-google-authenticator import help" -f -a "disable" -d 'Disable an account: every login and every request of its own is refused (error code `disabled`) until `enable` (admin). Its lockout, factors and password stay'
complete -c authctl -n "__fish_authctl_using_subcommand help; and not __fish_seen_subcommand_from add-user remove-user list-users show set-user set-password change-password send-reset reset-password outbox backup verify enable-totp confirm-totp enable-sms confirm-sms send-code disable-2fa reset-2fa recovery-codes unlock disable enable log status metrics sessions logout add-key keys remove-key import-google-authenticator import help" -f -a "enable" -d 'Enable a disabled account again (admin)'
complete -c authctl -n "__fish_authctl_using_subcommand help; and not __fish_seen_subcommand_from add-user remove-user list-users show set-user set-password change-password send-reset reset-password outbox backup verify enable-totp confirm-totp enable-sms confirm-sms send-code disable-2fa reset-2fa recovery-codes unlock disable enable log status metrics sessions logout add-key keys remove-key import-google-authenticator import help" -f -a "log" -d 'Show an account\'s audit events, oldest first (admin, or the user themself)'
complete -c authctl -n "__fish_authctl_using_subcommand help; and not __fish_seen_subcommand_from add-user remove-user list-users show set-user set-password change-password send-reset reset-password outbox backup verify enable-totp confirm-totp enable-sms confirm-sms send-code disable-2fa reset-2fa recovery-codes unlock disable enable log status metrics sessions logout add-key keys remove-key import-google-authenticator import help" -f -a "status" -d 'Show the daemon\'s version, uptime and counts (anyone; with --json, admins also get the metrics\' samples)'
complete -c authctl -n "__fish_authctl_using_subcommand help; and not __fish_seen_subcommand_from add-user remove-user list-users show set-user set-password change-password send-reset reset-password outbox backup verify enable-totp confirm-totp enable-sms confirm-sms send-code disable-2fa reset-2fa recovery-codes unlock disable enable log status metrics sessions logout add-key keys remove-key import-google-authenticator import help" -f -a "metrics" -d 'Print the daemon\'s metrics in Prometheus text format, for node_exporter\'s textfile collector: logins by method and result, lockouts, the outbox by channel, request latency, connections, the hashing queue (admin)'
complete -c authctl -n "__fish_authctl_using_subcommand help; and not __fish_seen_subcommand_from add-user remove-user list-users show set-user set-password change-password send-reset reset-password outbox backup verify enable-totp confirm-totp enable-sms confirm-sms send-code disable-2fa reset-2fa recovery-codes unlock disable enable log status metrics sessions logout add-key keys remove-key import-google-authenticator import help" -f -a "sessions" -d 'List an account\'s portal sessions (authd-web sign-ins): id, created, last used, expires, origin (admin, or the user themself)'
complete -c authctl -n "__fish_authctl_using_subcommand help; and not __fish_seen_subcommand_from add-user remove-user list-users show set-user set-password change-password send-reset reset-password outbox backup verify enable-totp confirm-totp enable-sms confirm-sms send-code disable-2fa reset-2fa recovery-codes unlock disable enable log status metrics sessions logout add-key keys remove-key import-google-authenticator import help" -f -a "logout" -d 'End one portal session of an account, or all of them (admin, or the user themself)'
complete -c authctl -n "__fish_authctl_using_subcommand help; and not __fish_seen_subcommand_from add-user remove-user list-users show set-user set-password change-password send-reset reset-password outbox backup verify enable-totp confirm-totp enable-sms confirm-sms send-code disable-2fa reset-2fa recovery-codes unlock disable enable log status metrics sessions logout add-key keys remove-key import-google-authenticator import help" -f -a "add-key" -d 'Register a FIDO2 security key as a second factor: touch it when asked (admin, or the user themself with the password and a current code or a touch of a key already registered). The account\'s first second factor brings recovery codes'
complete -c authctl -n "__fish_authctl_using_subcommand help; and not __fish_seen_subcommand_from add-user remove-user list-users show set-user set-password change-password send-reset reset-password outbox backup verify enable-totp confirm-totp enable-sms confirm-sms send-code disable-2fa reset-2fa recovery-codes unlock disable enable log status metrics sessions logout add-key keys remove-key import-google-authenticator import help" -f -a "keys" -d 'List an account\'s security keys: id, name, when registered and last used (admin, or the user themself)'
complete -c authctl -n "__fish_authctl_using_subcommand help; and not __fish_seen_subcommand_from add-user remove-user list-users show set-user set-password change-password send-reset reset-password outbox backup verify enable-totp confirm-totp enable-sms confirm-sms send-code disable-2fa reset-2fa recovery-codes unlock disable enable log status metrics sessions logout add-key keys remove-key import-google-authenticator import help" -f -a "remove-key" -d 'Remove a security key; needs the password and a touch of a registered key (or a current code), from admins too (admin, or the user themself)'
complete -c authctl -n "__fish_authctl_using_subcommand help; and not __fish_seen_subcommand_from add-user remove-user list-users show set-user set-password change-password send-reset reset-password outbox backup verify enable-totp confirm-totp enable-sms confirm-sms send-code disable-2fa reset-2fa recovery-codes unlock disable enable log status metrics sessions logout add-key keys remove-key import-google-authenticator import help" -f -a "import-google-authenticator" -d 'Turn an account\'s authenticator app on with the secret of a pam_google_authenticator file, so the user keeps the phone they enrolled there (admin)'
complete -c authctl -n "__fish_authctl_using_subcommand help; and not __fish_seen_subcommand_from add-user remove-user list-users show set-user set-password change-password send-reset reset-password outbox backup verify enable-totp confirm-totp enable-sms confirm-sms send-code disable-2fa reset-2fa recovery-codes unlock disable enable log status metrics sessions logout add-key keys remove-key import-google-authenticator import help" -f -a "import" -d 'Create or update many accounts from standard input, all or nothing (admin)'
complete -c authctl -n "__fish_authctl_using_subcommand help; and not __fish_seen_subcommand_from add-user remove-user list-users show set-user set-password change-password send-reset reset-password outbox backup verify enable-totp confirm-totp enable-sms confirm-sms send-code disable-2fa reset-2fa recovery-codes unlock disable enable log status metrics sessions logout add-key keys remove-key import-google-authenticator import help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c authctl -n "__fish_authctl_using_subcommand help; and __fish_seen_subcommand_from outbox" -f -a "retry" -d 'Put messages back in the queue, due now (admin). A given-up mail gets a new retry period; an SMS login code past its validity is dropped instead, never sent'
complete -c authctl -n "__fish_authctl_using_subcommand help; and __fish_seen_subcommand_from outbox" -f -a "purge" -d 'Remove messages from the outbox (admin): one, every given-up one, or the records of messages delivered before a date (kept for `outbox.keep_delivered`)'
