#!/bin/bash
# End-to-end messages/s through a real Postfix with the milter (quarantine and audit on):
# runs the Postfix integration test with SK_BENCH_N messages from the corpus, sent by
# 32 concurrent SMTP senders (SK_BENCH_SENDERS), through the milter and through the same
# Postfix without it (a second smtpd port), twice each, in the same run. PROFILE: the
# milter's --profile for the bench (default: its own default).
# usage: bench/mail_postfix.sh SEKISHO [N [PROFILE]]
SK_BENCH_N=${2:-1000} SK_BENCH_PROFILE=${3:-} exec "$(dirname "$0")/../tests/integration/postfix.sh" "$1"
