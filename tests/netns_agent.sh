#!/bin/sh
# Open MPI's remote-shell agent (plm_rsh_agent) for the hosts tests/netns_hosts.sh makes: runs
# the launcher's command on "host" ADDR, a network namespace, the way `ssh -f` would: detached
# (own session, no stdin, output to a log), so that mpirun keeps no local handle on the remote
# daemon and everything between them crosses the namespaces' links.
#   netns_agent.sh ADDR COMMAND WORDS...
# MBN_NETNS_HOSTS lists the hosts as ADDR=NAMESPACE=HOSTNAME=CPUS (CPUS: a taskset list, or -);
# MBN_NETNS_LOG is the folder for the daemons' output.
addr=$1
shift
cmd="$*"
ns='' name='' cpus=''
for h in $MBN_NETNS_HOSTS; do
    old_ifs=$IFS
    IFS='='
    # shellcheck disable=SC2086
    set -- $h
    IFS=$old_ifs
    if [ "$1" = "$addr" ]; then ns=$2 name=$3 cpus=$4; fi
done
[ -n "$ns" ] || { echo "netns_agent.sh: no namespace for host $addr" >&2; exit 1; }
[ "$cpus" = - ] && cpus=
# shellcheck disable=SC2016
setsid ip netns exec "$ns" unshare --uts sh -c \
    'hostname "$1"; if [ -n "$2" ]; then exec taskset -c "$2" sh -c "$3"; else exec sh -c "$3"; fi' \
    sh "$name" "$cpus" "$cmd" </dev/null >>"${MBN_NETNS_LOG:-/tmp}/$name.log" 2>&1 &
