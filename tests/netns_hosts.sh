# Sourced by the multi-host tests and benchmarks (after tests/mpi_env.sh): "hosts" on this
# machine, each a network namespace with its own hostname, joined like the machines of a cluster:
#   - a management network 198.18.0.0/24 (host i is 198.18.0.(i+1)): mpirun's launcher and
#     control traffic (Open MPI's OOB), as ssh and the daemons use in a cluster;
#   - a data network 198.19.0.0/24 (host i is 198.19.0.(i+1)): the ranks' messages (Open MPI's
#     TCP BTL), the gradient exchange.
# Each network is a bridge in a "switch" namespace with one veth pair per host (the host end is
# named mgmt or data). Every address is in the RFC 2544 benchmarking range 198.18.0.0/15 and lives
# only inside these namespaces: nothing is added to the machine's own network. Faults and slow
# links act on the switch ports (link down: a pulled cable) or on the hosts' ends (tc).
#
#   netns_hosts N     makes N hosts, or exits 77 (SKIP) saying why they cannot be made
#   NSRUN=(...)       mpirun on host 0 over the N hosts, one rank slot each: append -np N ...
#   NS[i], HOSTNAME_OF[i], ADDR[i]   host i's namespace, hostname and management address
#   netns_cleanup     kills whatever runs in them and deletes them (the EXIT trap calls it;
#                     netns_hosts makes SIGINT and SIGTERM exit through that trap)
#
# Namespaces are named mbnt<pid>-*, pid being the test's shell: a test killed before its trap
# ran (SIGKILL by a CI timeout) leaves them behind, and the next test deletes those whose shell
# is gone.
# Sourcing it makes $T (a temporary folder, unless the caller has one) and sets the EXIT trap that
# deletes the namespaces and $T.
NETNS_PREFIX=mbnt$$
NETNS_MADE=()
NS=()
HOSTNAME_OF=()
ADDR=()

T=${T:-$(mktemp -d)}
trap 'netns_cleanup; rm -rf "$T"' EXIT

netns_pids() { ip netns pids "$1" 2>/dev/null || true; }

netns_delete() {
    local ns=$1 p
    for _ in 1 2 3; do
        p=$(netns_pids "$ns")
        [ -z "$p" ] && break
        # shellcheck disable=SC2086
        kill -9 $p 2>/dev/null || true
        sleep 0.2
    done
    ip netns delete "$ns" 2>/dev/null || true
}

netns_cleanup() {
    local ns
    for ns in "${NETNS_MADE[@]}"; do netns_delete "$ns"; done
    NETNS_MADE=()
}

netns_reap_stale() {
    local ns pid
    for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^mbnt[0-9]+-' || true); do
        pid=${ns#mbnt}
        pid=${pid%%-*}
        kill -0 "$pid" 2>/dev/null || netns_delete "$ns"
    done
}

netns_add() {
    ip netns add "$1" || return 1
    NETNS_MADE+=("$1")
    ip -n "$1" link set lo up
}

# netns_hosts N [CPUS...]: CPUS[i] pins host i's processes (a taskset list; - for none).
netns_hosts() {
    local n=$1 i sw=$NETNS_PREFIX-sw
    shift
    if [ "$(id -u)" != 0 ]; then
        echo "SKIP: network namespaces need root (ip netns add)"
        exit 77
    fi
    for tool in ip unshare setsid taskset; do
        command -v $tool >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
    done
    netns_reap_stale
    # A signal ends the script through its EXIT trap, which is to call netns_cleanup.
    trap 'exit 130' INT
    trap 'exit 143' TERM
    if ! netns_add "$sw" 2>"$T/netns.err"; then
        echo "SKIP: cannot create network namespaces here: $(head -1 "$T/netns.err")"
        exit 77
    fi
    if ! { ip -n "$sw" link add br-mgmt type bridge && ip -n "$sw" link set br-mgmt up &&
        ip -n "$sw" link add br-data type bridge && ip -n "$sw" link set br-data up; }; then
        echo "SKIP: cannot create a bridge in a network namespace"
        exit 77
    fi
    local hosts=() cpus
    for ((i = 0; i < n; i++)); do
        NS[i]=$NETNS_PREFIX-h$i
        HOSTNAME_OF[i]=nshost$i
        ADDR[i]=198.18.0.$((i + 1))
        cpus=${1:--}
        shift || true
        netns_add "${NS[i]}"
        for net in mgmt data; do
            ip -n "$sw" link add "$net$i" type veth peer name "$net" netns "${NS[i]}"
            ip -n "$sw" link set "$net$i" master "br-$net" up
            ip -n "${NS[i]}" link set "$net" up
        done
        ip -n "${NS[i]}" addr add "${ADDR[i]}/24" dev mgmt
        ip -n "${NS[i]}" addr add "198.19.0.$((i + 1))/24" dev data
        hosts+=("${ADDR[i]}=${NS[i]}=${HOSTNAME_OF[i]}=$cpus")
    done
    export MBN_NETNS_HOSTS="${hosts[*]}"
    export MBN_NETNS_LOG=$T
    local slots
    slots=$(printf '%s:1,' "${ADDR[@]}")
    cpus=${hosts[0]##*=}
    local pin=()
    [ "$cpus" != - ] && pin=(taskset -c "$cpus")
    # shellcheck disable=SC2016
    NSRUN=(ip netns exec "${NS[0]}" unshare --uts sh -c 'hostname "$0"; exec "$@"' "${HOSTNAME_OF[0]}"
        "${pin[@]}" "$MPIEXEC" --allow-run-as-root -H "${slots%,}"
        --mca plm_rsh_agent "sh $PWD/tests/netns_agent.sh"
        --mca btl "tcp,self" --mca btl_tcp_if_include 198.19.0.0/24
        --mca oob_tcp_if_include 198.18.0.0/24
        # A host that stops answering on the management network too: the daemons notice in ~5 s
        # (defaults: 300 s idle + 9 x 20 s) and end the job; mbn's --comm-timeout covers the rest.
        --mca oob_tcp_keepalive_time 2 --mca oob_tcp_keepalive_intvl 1
        --mca oob_tcp_keepalive_probes 3)
}

# A switch port: netns_link HOST NET up|down (NET: mgmt or data).
netns_link() { ip -n "$NETNS_PREFIX-sw" link set "$2$1" "$3"; }

# Rate limit on host i's data link, both ways (the switch port and the host's end): netns_rate I
# RATE (e.g. 1gbit, 100mbit; "off" removes it).
netns_rate() {
    local i=$1 rate=$2 dev ns
    for dev in "$NETNS_PREFIX-sw data$i" "${NS[i]} data"; do
        read -r ns dev <<<"$dev"
        ip netns exec "$ns" tc qdisc del dev "$dev" root 2>/dev/null || true
        [ "$rate" = off ] && continue
        ip netns exec "$ns" tc qdisc add dev "$dev" root tbf rate "$rate" burst 256kb latency 50ms
    done
}

# Processes left in any of the hosts (empty when none).
netns_leftovers() {
    local i
    for ((i = 0; i < ${#NS[@]}; i++)); do
        netns_pids "${NS[i]}" | while read -r p; do
            echo "${HOSTNAME_OF[i]}:$p:$(cat /proc/"$p"/comm 2>/dev/null)"
        done
    done
}
