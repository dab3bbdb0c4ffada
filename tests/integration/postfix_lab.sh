# A private, real Postfix on 127.0.0.1 for the tests, the benchmarks and ./dev/run: its own
# config_directory, queue, data folder and Maildir under one folder, smtpd on a high port
# only (no chroot), a milter as smtpd_milters, mail for one virtual domain delivered by the
# virtual agent to DIR/mail/u (the mailbox u@DOMAIN). Sourced, not run; needs root, the
# postfix package and its user.
#
#   pf_usable                      0 when this machine can run it (root, postfix, swaks)
#   pf_ports                       a free port P on 127.0.0.1 whose P+1 is free too (for
#                                  PORT and BARE_PORT: never a port another program holds)
#   pf_setup DIR PORT MILTER DOMAIN [BARE_PORT]
#                                  writes DIR/etc/main.cf and master.cf; MILTER is Postfix's
#                                  smtpd_milters value ("unix:/path"); BARE_PORT (optional)
#                                  is a second smtpd without the milter (bench comparisons)
#   pf_start DIR                   postfix check + start; 0 when it answers on PORT
#   pf_stop DIR                    stops it and waits for its master to exit
#   pf_delivered DIR               number of messages in the mailbox
#   lab_stop DIR                   at exit: the Postfix, sekishod ($MASTER: SIGTERM, SIGKILL
#                                  after 10 s); DIR removed unless SK_KEEP is set
#   sekishod_term                  SIGTERM to sekishod ($MASTER, then cleared): its exit
#                                  status (waits up to 15 s)
# Extra main.cf lines can be given in PF_EXTRA (one per line).

pf_ports() {
	python3 - <<'PY'
import random, socket
for _ in range(200):
    p = random.randrange(20000, 60000)
    socks = []
    try:
        for q in (p, p + 1):
            s = socket.socket()
            s.bind(("127.0.0.1", q))
            socks.append(s)
    except OSError:
        continue
    finally:
        for s in socks:
            s.close()
    print(p)
    break
PY
}

pf_usable() {
	[ "$(id -u)" = 0 ] && command -v postfix >/dev/null && command -v swaks >/dev/null &&
		id postfix >/dev/null 2>&1
}

pf_setup() {
	local dir=$1 port=$2 milter=$3 domain=$4 bare=${5:-}
	mkdir -p "$dir/etc" "$dir/spool" "$dir/data" "$dir/mail/u"
	chmod 755 "$dir"
	chown postfix "$dir/data"
	chown -R nobody "$dir/mail"
	echo "$port" > "$dir/etc/sk-port"
	cat > "$dir/etc/main.cf" <<CF
compatibility_level = 3.6
config_directory = $dir/etc
queue_directory = $dir/spool
data_directory = $dir/data
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = mx.$domain
mydomain = $domain
myorigin = $domain
mydestination =
mynetworks = 127.0.0.0/8
relayhost =
alias_maps =
alias_database =
local_recipient_maps =
virtual_mailbox_domains = lg.$domain
virtual_mailbox_base = $dir/mail
virtual_mailbox_maps = inline:{ u@lg.$domain=u/ }
virtual_uid_maps = static:$(id -u nobody)
virtual_gid_maps = static:$(id -g nobody)
virtual_minimum_uid = 1
smtpd_milters = $milter
milter_default_action = tempfail
milter_protocol = 6
maillog_file = $dir/maillog
maillog_file_prefixes = $(dirname "$dir")
import_environment = MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C
smtputf8_enable = no
message_size_limit = 20480000
${PF_EXTRA:-}
CF
	# the system master.cf, no chroot, smtpd on our port(s) only
	awk -v port="$port" -v bare="$bare" '
/^#/ || /^[ \t]/ || NF < 8 { print; next }
$1 == "smtp" && $2 == "inet" { print "127.0.0.1:" port " inet n - n - - smtpd"
	if (bare != "") print "127.0.0.1:" bare " inet n - n - - smtpd -o smtpd_milters="
	next }
$2 == "inet" { next }
{ $5 = "n"; print }' /etc/postfix/master.cf > "$dir/etc/master.cf"
}

pf_start() {
	local dir=$1 port
	port=$(cat "$dir/etc/sk-port")
	postfix -c "$dir/etc" check > "$dir/check.log" 2>&1
	postfix -c "$dir/etc" start > "$dir/start.log" 2>&1 || return 1
	for _ in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

pf_stop() {
	local dir=$1
	postfix -c "$dir/etc" stop >/dev/null 2>&1
	# master may take a moment to exit
	for _ in $(seq 20); do
		[ -f "$dir/spool/pid/master.pid" ] &&
			kill -0 "$(tr -d ' ' < "$dir/spool/pid/master.pid")" 2>/dev/null || break
		sleep 0.25
	done
}

pf_delivered() {
	ls "$1/mail/u/new" 2>/dev/null | wc -l
}

lab_stop() {
	pf_stop "$1"
	if [ -n "${MASTER:-}" ] && kill -0 "$MASTER" 2>/dev/null; then
		kill -TERM "$MASTER" 2>/dev/null
		for _ in $(seq 100); do kill -0 "$MASTER" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$MASTER" 2>/dev/null
		wait "$MASTER" 2>/dev/null
	fi
	[ -n "${SK_KEEP:-}" ] || rm -rf "$1"
}

sekishod_term() {
	local rc
	kill -TERM "$MASTER"
	for _ in $(seq 150); do kill -0 "$MASTER" 2>/dev/null || break; sleep 0.1; done
	wait "$MASTER"
	rc=$?
	MASTER=
	return $rc
}
