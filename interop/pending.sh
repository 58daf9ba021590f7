#!/usr/bin/env bash
# Manual approval: every real client against a gateway with `policy.approval: manual` and the static challenge
# (run-all.sh starts it; environment: see lib.sh). Each first enrollment is answered PENDING and stored; the
# script plays the administrator with `scep-gateway requests list/approve/deny` on the same data dir while the
# gateway runs. The result lines name the real client.
#
# How each client waits:
#   * strongSwan `pki --scep --interval 1` polls with CertPoll (20) every second until SUCCESS or FAILURE
#     (bounded by --maxpolltime);
#   * certmonger: the helper reports "not yet issued" and the daemon keeps the request in CA_WORKING; it did
#     not poll again within 60 s on its own, so the script runs `getcert resubmit` after the decision. That
#     rebuilds the CSR (certmonger puts a random subjectKeyIdentifier in it) under the same transactionID; the
#     gateway takes the same key and subject as the same request;
#   * micromdm scepclient sends the same PKCSReq again every 30 s (no CertPoll). Two of them run in the
#     background from the start, one approved and one denied at once, and are collected at the end, so their
#     30 s overlap the other cases.
set -euo pipefail
# shellcheck source=interop/lib.sh
source "$(dirname "$0")/lib.sh"
: "${PEND_URL:?}" "${PEND_DATA:?}" "${PEND_LOG:?}"
W=$WORK
mkdir -p "$W"
CA_PEM=$W/ca.pem
fetch_ca_pem "$PEND_URL" "$CA_PEM" || { fail setup "GetCACert of the manual-approval gateway failed"; exit 1; }
openssl x509 -in "$CA_PEM" -outform DER -out "$W/ca.der"
# How long a decision may take to reach a polling client (strongSwan polls every second).
WAIT=${PENDING_TIMEOUT:-30}

# The id of the pending request whose subject holds the RDN CN=cn ("N request(s)" and log lines are skipped:
# only table rows have the status in column 2).
pending_id() { # cn
  "$GW_BIN" requests list --status pending --data-dir "$PEND_DATA" 2>/dev/null |
    awk -v cn="CN=$1" '$2 == "pending" { n = split($NF, rdn, ","); for (i = 1; i <= n; i++) if (rdn[i] == cn) { print $1; exit } }'
}
wait_pending() { # cn -> id on stdout; 1 if it does not show up within WAIT seconds
  local id deadline=$((SECONDS + WAIT))
  while ((SECONDS < deadline)); do
    id=$(pending_id "$1")
    [[ -n $id ]] && { echo "$id"; return 0; }
    sleep 0.3
  done
  return 1
}
# A failed decision shows up as the client's wrong outcome; the command's output stays in $W/decide.out.
approve() { "$GW_BIN" requests approve "$1" --data-dir "$PEND_DATA" >>"$W/decide.out" 2>&1 || true; }
deny() { "$GW_BIN" requests deny "$1" --reason "$2" --data-dir "$PEND_DATA" >>"$W/decide.out" 2>&1 || true; }
# The gateway's log lines for one subject CN: "type outcome" pairs in order, e.g. "PKCSReq/PENDING CertPoll/SUCCESS".
log_history() { # cn
  grep -E "subject=([^ ]*,)?CN=$1[, ]" "$PEND_LOG" | grep -o 'type=[A-Za-z]* txid=[^ ]* outcome=[A-Z]*' |
    sed 's/type=\([A-Za-z]*\) txid=[^ ]* outcome=/\1\//' | paste -sd' ' -
}

# ------------------------------------------------------------------------------ micromdm (started, collected last)
MM=$W/micromdm
declare -A mm_pid mm_id
mm_start=$SECONDS
if command -v scepclient >/dev/null; then
  for what in approve deny; do
    mkdir -p "$MM/$what"
    timeout 75 scepclient -server-url "$PEND_URL" -challenge "$CHALLENGE" -private-key "$MM/$what/key.pem" \
      -certificate "$MM/$what/cert.pem" -cn "mm-$what-$RUN_ID" -organization Interop -debug >"$MM/$what/out.txt" 2>&1 &
    mm_pid[$what]=$!
  done
  mm_id[approve]=$(wait_pending "mm-approve-$RUN_ID") && approve "${mm_id[approve]}"
  mm_id[deny]=$(wait_pending "mm-deny-$RUN_ID") && deny "${mm_id[deny]}" "interop: denied on purpose"
fi

# -------------------------------------------------------------------------------------------------- strongSwan
CLIENT=strongswan
S=$W/strongswan
mkdir -p "$S"
# ss_start NAME: pki --scep in the background, polling every second for at most 30 s; pid in SS_PID.
ss_start() {
  local cn=ss-$1-$RUN_ID
  timeout "$CLIENT_TIMEOUT" pki --gen --type rsa --size 2048 --outform pem >"$S/$1.key"
  timeout 40 pki --scep --url "$PEND_URL" --in "$S/$1.key" --dn "C=US, O=Interop, CN=$cn" --san "$cn.example.org" \
    --password "$CHALLENGE" --cacert-enc "$W/ca.der" --cacert-sig "$W/ca.der" --cipher des3 \
    --interval 1 --maxpolltime 30 --outform pem >"$S/$1.pem" 2>"$S/$1.err" &
  SS_PID=$!
}
if ! command -v pki >/dev/null; then
  fail pending-approve "pki not installed (run interop/install-clients.sh)"
  fail pending-deny "pki not installed (run interop/install-clients.sh)"
else
  ss_start approve
  approve_pid=$SS_PID
  ss_start deny
  deny_pid=$SS_PID
  approve_id=$(wait_pending "ss-approve-$RUN_ID") || approve_id=""
  deny_id=$(wait_pending "ss-deny-$RUN_ID") || deny_id=""
  [[ -n $approve_id ]] && approve "$approve_id"
  [[ -n $deny_id ]] && deny "$deny_id" "interop: denied on purpose"
  rc=0
  wait "$approve_pid" || rc=$?
  cn=ss-approve-$RUN_ID
  if [[ -z $approve_id ]]; then
    fail pending-approve "no pending request for CN=$cn in 'requests list' (pki: $(pki_last_error "$S/approve.err"))"
  elif [[ $rc -ne 0 ]]; then
    fail pending-approve "pki exit $rc after approval of request $approve_id: $(pki_last_error "$S/approve.err")"
  elif ! why=$(check_cert "$S/approve.pem" "$CA_PEM" "$PEND_DATA" "CN=$cn,O=Interop,C=US" "DNS:$cn.example.org"); then
    fail pending-approve "$why"
  elif [[ $(log_history "$cn") != "PKCSReq/PENDING "*"CertPoll/SUCCESS" ]]; then
    fail pending-approve "gateway log for $cn: $(log_history "$cn")"
  else
    pass pending-approve "PENDING, request $approve_id approved, $(($(log_history "$cn" | wc -w) - 1)) CertPoll(s), the last one SUCCESS; exit 0, cert verified"
  fi
  rc=0
  wait "$deny_pid" || rc=$?
  cn=ss-deny-$RUN_ID
  if [[ -z $deny_id ]]; then
    fail pending-deny "no pending request for CN=$cn in 'requests list' (pki: $(pki_last_error "$S/deny.err"))"
  elif [[ $rc -eq 0 || -s $S/deny.pem ]]; then
    fail pending-deny "pki exit $rc after the denial of request $deny_id"
  elif ! grep -q "failInfo: *badRequest" "$S/deny.err" || [[ $(log_history "$cn") != "PKCSReq/PENDING "*"CertPoll/FAILURE" ]]; then
    fail pending-deny "pki: $(pki_last_error "$S/deny.err"); gateway log: $(log_history "$cn")"
  else
    pass pending-deny "PENDING, request $deny_id denied, CertPoll FAILURE; pki exit $rc, '$(grep -o 'failInfo:.*' "$S/deny.err" | tr -s ' ')', no cert"
  fi
fi

# -------------------------------------------------------------------------------------------------- certmonger
CLIENT=certmonger
C=$W/certmonger
if ! command -v certmonger >/dev/null || ! command -v getcert >/dev/null; then
  fail pending-approve "certmonger not installed (run interop/install-clients.sh)"
  fail pending-deny "certmonger not installed (run interop/install-clients.sh)"
elif ! certmonger_start "$C"; then
  fail pending-approve "certmonger daemon did not start: $(tail -n 1 "$C/daemon.log")"
  fail pending-deny "certmonger daemon did not start"
else
  trap 'certmonger_stop "$C"' EXIT
  export CERTMONGER_PVT_ADDRESS=unix:path=$C/sock
  getcert add-scep-ca -c pend -u "$PEND_URL" -N "$CA_PEM" >/dev/null # one CA cert: -N needed (see CLIENTS.md)
  declare -A cm_id cm_held
  for what in approve deny; do
    getcert request -c pend -I "$what" -k "$C/out/$what.key" -f "$C/out/$what.pem" -N "CN=cm-$what-$RUN_ID,O=Interop" \
      -L "$CHALLENGE" -G rsa -g 2048 >/dev/null
  done
  for what in approve deny; do
    cm_id[$what]=$(wait_pending "cm-$what-$RUN_ID") || cm_id[$what]=""
    cm_held[$what]=$(certmonger_status "$what")
  done
  [[ -n ${cm_id[approve]} ]] && approve "${cm_id[approve]}"
  [[ -n ${cm_id[deny]} ]] && deny "${cm_id[deny]}" "interop: denied on purpose"
  # The decision reaches the daemon only when it asks again; `getcert resubmit` makes it ask now. It rebuilds the
  # CSR (a fresh random subjectKeyIdentifier) under the same transactionID: the gateway takes the same key and
  # subject as the same request.
  for what in approve deny; do getcert resubmit -i "$what" >/dev/null || true; done
  for what in approve deny; do
    st=$(certmonger_wait "$what" "$WAIT")
    cn=cm-$what-$RUN_ID
    case=pending-$what
    if [[ -z ${cm_id[$what]} ]]; then
      fail "$case" "no pending request for CN=$cn in 'requests list' (status ${cm_held[$what]}: $(certmonger_ca_error "$what"))"
    elif [[ ${cm_held[$what]} != CA_WORKING ]]; then
      fail "$case" "status while pending was ${cm_held[$what]}, expected CA_WORKING"
    elif [[ $what == approve ]]; then
      certmonger_csr "$C" approve "$C/out/approve.csr"
      if [[ $st != MONITORING ]]; then
        fail "$case" "status $st after approval: $(certmonger_ca_error approve)"
      elif ! why=$(check_cert "$C/out/approve.pem" "$CA_PEM" "$PEND_DATA" "$(csr_subject "$C/out/approve.csr")" ""); then
        fail "$case" "$why"
      else
        pass "$case" "CA_WORKING while pending, request ${cm_id[approve]} approved, resubmitted: MONITORING, cert verified ($(log_history "$cn"))"
      fi
    elif [[ $st == CA_REJECTED && ! -s $C/out/deny.pem ]]; then
      pass "$case" "CA_WORKING while pending, request ${cm_id[deny]} denied, resubmitted: CA_REJECTED ('$(certmonger_ca_error deny)')"
    else
      fail "$case" "status $st after denial: $(certmonger_ca_error deny); gateway log: $(log_history "$cn")"
    fi
  done
fi

# ------------------------------------------------------------------------------------------------------ micromdm
CLIENT=micromdm
mm_said() { grep -v '^level=\|^ts=' "$MM/$1/out.txt" | tail -n 1; } # approve|deny: its one-line verdict
for what in approve deny; do
  case=pending-$what
  cn=mm-$what-$RUN_ID
  if [[ -z ${mm_pid[$what]:-} ]]; then
    fail "$case" "scepclient not installed (run interop/install-clients.sh)"
    continue
  fi
  rc=0
  wait "${mm_pid[$what]}" || rc=$?
  took=$((SECONDS - mm_start))
  if [[ -z ${mm_id[$what]:-} ]]; then
    fail "$case" "no pending request for CN=$cn in 'requests list': $(mm_said "$what")"
  elif [[ $what == approve ]]; then
    if [[ $rc -ne 0 ]]; then
      fail "$case" "scepclient exit $rc after ${took} s: $(mm_said approve)"
    elif ! why=$(check_cert "$MM/approve/cert.pem" "$CA_PEM" "$PEND_DATA" "$(csr_subject "$MM/approve/csr.pem")" \
      "$(csr_sans "$MM/approve/csr.pem")"); then
      fail "$case" "$why"
    elif [[ $(log_history "$cn") != "PKCSReq/PENDING PKCSReq/SUCCESS" ]]; then
      fail "$case" "gateway log for $cn: $(log_history "$cn")"
    else
      pass "$case" "PENDING, request ${mm_id[approve]} approved at once, the same PKCSReq resent 30 s later got SUCCESS; exit 0 after ${took} s, cert verified"
    fi
  elif [[ $rc -ne 0 && $(mm_said deny) == *"failInfo: badRequest"* && ! -s $MM/deny/cert.pem &&
    $(log_history "$cn") == "PKCSReq/PENDING PKCSReq/FAILURE" ]]; then
    pass "$case" "PENDING, request ${mm_id[deny]} denied, the resent PKCSReq got FAILURE: exit $rc, '$(mm_said deny)', no cert"
  else
    fail "$case" "scepclient exit $rc: $(mm_said deny); gateway log: $(log_history "$cn")"
  fi
done

exit $((FAILURES > 0))
