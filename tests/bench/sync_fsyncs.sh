#!/bin/bash
# Disk flushes of a commune's initial sync to a hub (real nodes on loopback):
# tests/bench/sync_fsyncs.sh TUPHAP [RECORDS]. Needs strace and a build with
# -DTUPHAP_TEST_KDF=ON. Prints the commune's fsync/fdatasync calls.
T=$(realpath "$1"); N=${2:-10000}; D=$(mktemp -d); cd "$D"
export TUPHAP_PASSPHRASE=password1 TUPHAP_KDF=weak
$T --data hub init --role hub --province 56 >/dev/null; $T --data c init --role commune --commune 22333 >/dev/null
$T --data c enroll request --out r >/dev/null; $T --data hub enroll sign r --out e >/dev/null; $T --data c enroll accept e >/dev/null
$T generate --records $N --commune 22333 --seed 4 > g.jsonl; $T --data c import g.jsonl >/dev/null
P=$((20000 + RANDOM % 20000))
$T --data hub serve --listen tcp://127.0.0.1:$P --exit-with-parent 2>/dev/null & sleep 1.5
strace -f -c -e trace=fsync,fdatasync -o st.txt $T --data c sync tcp://127.0.0.1:$P --once > out.txt 2>&1
grep -E "fsync|fdatasync" st.txt | awk '{print "commune", $NF, $4, "calls"}'; tail -1 out.txt
kill %1; cd /; rm -rf $D
