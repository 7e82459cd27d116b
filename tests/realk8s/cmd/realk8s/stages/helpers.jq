# Definitions shared by every jq program of the stages: realk8s puts them in front of each
# selector key and delay expression, so the programs below the line say only what differs.
# They mirror the emulator's container timeline (crates/emulator/src/controllers/containers.rs):
# the same annotation, the same durations, the same back-off.

# The failure mode a Pod asks for with rekon.dev/simulate.
def mode: (.metadata.annotations["rekon.dev/simulate"] // "") | trim;
def failing: mode == "fail" or mode == "crashloop";
# Pods whose containers run to completion instead of being restarted.
def toCompletion: .spec.restartPolicy == "Never" or .spec.restartPolicy == "OnFailure";
# A Go-style duration (30s, 1m30s, 500ms; a bare number is seconds) in seconds, or null.
def seconds: trim
  | if test("^[0-9]+$") then tonumber
    elif test("^([0-9]+(ms|s|m|h))+$") then
      [scan("([0-9]+)(ms|s|m|h)") | (.[0] | tonumber) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[.[1]]] | add
    elif . == "" then 0
    else null end;
# How long after starting the containers become Ready (slow-start=<duration>), in seconds.
def slow: mode | if startswith("slow-start=") then (ltrimstr("slow-start=") | seconds) // 0 else 0 end;
# The kubelet's back-off after the k-th failure: 10s doubling up to 300s.
def backoff($k): [10 * pow(2; $k), 300] | min;
def deleting: .metadata.deletionTimestamp != null;
def statuses: .status.containerStatuses // [];
def initStatuses: .status.initContainerStatuses // [];
def terminal: .status.phase == "Succeeded" or .status.phase == "Failed";
# When the main containers start: the sandbox takes 2s, each init container 1s.
def mainStart: (.status.startTime | fromdate) + 2 + (.spec.initContainers // [] | length);
# The latest image pull attempt at or before now, in seconds after mainStart, and its number:
# an attempt fails after 2s, and the next one comes after the back-off.
def pullAttempt: (now - mainStart) as $elapsed
  | {at: 0, k: 0}
  | until(.at + 2 + backoff(.k) > $elapsed; {at: (.at + 2 + backoff(.k)), k: (.k + 1)});
# The earliest startedAt among the running containers, in seconds.
def runningSince: [statuses[] | .state.running.startedAt // empty | fromdate] | min;
# A delay until the instant $t (seconds since the epoch), in the form kwok reads as one.
def deadline($t): $t | todate;
