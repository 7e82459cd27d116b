{{- /*
  Template helpers shared by the stages' patches: realk8s puts them in front of each template.
  A Go template cannot return a value, so a helper takes a dict with a "ret" dict and sets its
  result there: {{ $r := dict }}{{ template "rekon.image" (dict "image" "nginx" "ret" $r) }}.
  They mirror the kubelet of rekon's emulator (crates/emulator/src/controllers/kubelet.rs and
  containers.rs): the same statuses, reasons, messages and conditions.
*/ -}}

{{- /* rekon.mode: the failure mode .pod asks for with rekon.dev/simulate: ret.failing (fail or
  crashloop), ret.slow (slow-start=<duration> with a duration above zero: Ready only later),
  ret.toCompletion (restartPolicy Never or OnFailure: the containers run once). */ -}}
{{- define "rekon.mode" -}}
  {{- $mode := trim (toString (index (.pod.metadata.annotations | default (dict)) "rekon.dev/simulate" | default "")) -}}
  {{- $slow := false -}}
  {{- if hasPrefix "slow-start=" $mode -}}
    {{- $duration := trim (trimPrefix "slow-start=" $mode) -}}
    {{- $slow = and (regexMatch "^([0-9]+|([0-9]+(ms|s|m|h))+)$" $duration) (regexMatch "[1-9]" $duration) -}}
  {{- end -}}
  {{- $_ := set .ret "failing" (or (eq $mode "fail") (eq $mode "crashloop")) -}}
  {{- $_ := set .ret "slow" $slow -}}
  {{- $_ := set .ret "toCompletion" (has .pod.spec.restartPolicy (list "Never" "OnFailure")) -}}
{{- end -}}

{{- /* rekon.image: the image as a container runtime reports it (ret.full:
  docker.io/library/nginx:latest) and an imageID for it (ret.id: repository@sha256:...). */ -}}
{{- define "rekon.image" -}}
  {{- $name := .image -}}
  {{- $digest := "" -}}
  {{- if contains "@" $name -}}
    {{- $parts := splitn "@" 2 $name -}}
    {{- $name = $parts._0 -}}
    {{- $digest = $parts._1 -}}
  {{- end -}}
  {{- $first := first (splitList "/" $name) -}}
  {{- $full := printf "docker.io/library/%s" $name -}}
  {{- if and (contains "/" $name) (or (contains "." $first) (contains ":" $first) (eq $first "localhost")) -}}
    {{- $full = $name -}}
  {{- else if contains "/" $name -}}
    {{- $full = printf "docker.io/%s" $name -}}
  {{- end -}}
  {{- $last := last (splitList "/" $full) -}}
  {{- if and (eq $digest "") (not (contains ":" $last)) -}}
    {{- $full = printf "%s:latest" $full -}}
    {{- $last = printf "%s:latest" $last -}}
  {{- end -}}
  {{- $repository := $full -}}
  {{- if contains ":" $last -}}
    {{- $repository = trimSuffix (printf ":%s" (last (splitList ":" $last))) $full -}}
  {{- end -}}
  {{- if ne $digest "" -}}
    {{- $full = printf "%s@%s" $full $digest -}}
  {{- end -}}
  {{- $_ := set .ret "full" $full -}}
  {{- $_ := set .ret "id" (printf "%s@sha256:%s" $repository (sha256sum $full)) -}}
{{- end -}}

{{- /* rekon.containerID: the ID of run number .run of container .name in .pod (ret.id). */ -}}
{{- define "rekon.containerID" -}}
  {{- $_ := set .ret "id" (printf "containerd://%s" (sha256sum (printf "%s/%s/%v" .pod.metadata.uid .name .run))) -}}
{{- end -}}

{{- /* rekon.container: one entry of containerStatuses (ret.status) for container .spec in
  state .state (with .lastState, .ready, .started, .restarts). A container that has run
  (.ran) reports the resolved image and, unless waiting, its .containerID. */ -}}
{{- define "rekon.container" -}}
  {{- $s := dict "name" .spec.name "ready" .ready "started" .started "restartCount" (.restarts | default 0) "state" .state "lastState" (.lastState | default (dict)) -}}
  {{- if .ran -}}
    {{- $image := dict -}}
    {{- template "rekon.image" (dict "image" .spec.image "ret" $image) -}}
    {{- $_ := set $s "image" $image.full -}}
    {{- $_ := set $s "imageID" $image.id -}}
    {{- if and .containerID (not .state.waiting) -}}
      {{- $_ := set $s "containerID" .containerID -}}
    {{- end -}}
  {{- else -}}
    {{- $_ := set $s "image" .spec.image -}}
    {{- $_ := set $s "imageID" "" -}}
  {{- end -}}
  {{- $_ := set .ret "status" $s -}}
{{- end -}}

{{- /* rekon.current: the entry of .pod's containerStatuses for container .name (ret.status,
  unset when there is none). */ -}}
{{- define "rekon.current" -}}
  {{- $name := .name -}}
  {{- $ret := .ret -}}
  {{- range .pod.status.containerStatuses -}}
    {{- if eq .name $name -}}
      {{- $_ := set $ret "status" . -}}
    {{- end -}}
  {{- end -}}
{{- end -}}

{{- /* rekon.waiting: a container that has not run yet, waiting for .reason (ret.status). */ -}}
{{- define "rekon.waiting" -}}
  {{- $state := dict "waiting" (dict "reason" .reason) -}}
  {{- if .message -}}
    {{- $_ := set $state.waiting "message" .message -}}
  {{- end -}}
  {{- template "rekon.container" (dict "spec" .spec "state" $state "ready" false "started" false "ret" .ret) -}}
{{- end -}}

{{- /* rekon.pullError: the waiting state of a container whose image the registry refuses. */ -}}
{{- define "rekon.pullError" -}}
  {{- $image := dict -}}
  {{- template "rekon.image" (dict "image" .spec.image "ret" $image) -}}
  {{- $full := $image.full -}}
  {{- $message := printf "rpc error: code = NotFound desc = failed to pull and unpack image %q: failed to resolve reference %q: %s: not found" $full $full $full -}}
  {{- template "rekon.waiting" (dict "spec" .spec "reason" "ErrImagePull" "message" $message "ret" .ret) -}}
{{- end -}}

{{- /* rekon.status: the Pod's status (as the patch's YAML) once its containers are in
  .containers and its init containers in .init: phase, conditions, addresses. .sandbox says
  whether the Pod's sandbox is up (every stage but the first). */ -}}
{{- define "rekon.status" -}}
  {{- $pod := .pod -}}
  {{- $now := .now -}}
  {{- $toCompletion := has $pod.spec.restartPolicy (list "Never" "OnFailure") -}}
  {{- $exits := list -}}
  {{- $failed := false -}}
  {{- $ran := false -}}
  {{- $unready := list -}}
  {{- range .containers -}}
    {{- if .state.terminated -}}
      {{- $exits = append $exits .state.terminated.exitCode -}}
      {{- if ne (toString .state.terminated.exitCode) "0" -}}
        {{- $failed = true -}}
      {{- end -}}
    {{- end -}}
    {{- if or .state.running .state.terminated .lastState.terminated -}}
      {{- $ran = true -}}
    {{- end -}}
    {{- if not .ready -}}
      {{- $unready = append $unready .name -}}
    {{- end -}}
  {{- end -}}
  {{- $terminal := and $toCompletion (gt (len .containers) 0) (eq (len $exits) (len .containers)) -}}
  {{- $phase := "Pending" -}}
  {{- if $terminal -}}
    {{- $phase = ternary "Failed" "Succeeded" $failed -}}
  {{- else if $ran -}}
    {{- $phase = "Running" -}}
  {{- end -}}
  {{- $initPending := list -}}
  {{- range .init -}}
    {{- if not .state.terminated -}}
      {{- $initPending = append $initPending .name -}}
    {{- end -}}
  {{- end -}}
  {{- $initialized := eq (len $initPending) 0 -}}
  {{- $ready := and (gt (len .containers) 0) (eq (len $unready) 0) -}}

  {{- $want := list (dict "type" "PodReadyToStartContainers" "status" (ternary "True" "False" (and .sandbox (not $terminal)))) -}}
  {{- if $terminal -}}
    {{- $want = append $want (dict "type" "Initialized" "status" "True" "reason" "PodCompleted") -}}
    {{- $want = append $want (dict "type" "Ready" "status" "False" "reason" "PodCompleted") -}}
    {{- $want = append $want (dict "type" "ContainersReady" "status" "False" "reason" "PodCompleted") -}}
  {{- else -}}
    {{- if $initialized -}}
      {{- $want = append $want (dict "type" "Initialized" "status" "True") -}}
    {{- else -}}
      {{- $want = append $want (dict "type" "Initialized" "status" "False" "reason" "ContainersNotInitialized" "message" (printf "containers with incomplete status: [%s]" (join " " $initPending))) -}}
    {{- end -}}
    {{- if $ready -}}
      {{- $want = append $want (dict "type" "Ready" "status" "True") -}}
      {{- $want = append $want (dict "type" "ContainersReady" "status" "True") -}}
    {{- else -}}
      {{- $message := printf "containers with unready status: [%s]" (join " " $unready) -}}
      {{- $want = append $want (dict "type" "Ready" "status" "False" "reason" "ContainersNotReady" "message" $message) -}}
      {{- $want = append $want (dict "type" "ContainersReady" "status" "False" "reason" "ContainersNotReady" "message" $message) -}}
    {{- end -}}
  {{- end -}}
  {{- $conditions := dict -}}
  {{- template "rekon.conditions" (dict "pod" $pod "now" $now "want" $want "ret" $conditions) }}
phase: {{ $phase | Quote }}
conditions: {{ toJson $conditions.list }}
containerStatuses: {{ toJson .containers }}
  {{- if .init }}
initContainerStatuses: {{ toJson .init }}
  {{- end }}
  {{- with NodeIPsWith $pod.spec.nodeName }}
hostIP: {{ index . 0 | Quote }}
hostIPs:
    {{- range . }}
- ip: {{ . | Quote }}
    {{- end }}
  {{- end }}
  {{- if and .sandbox (not $pod.status.podIP) }}
    {{- with PodIPsWith $pod.spec.nodeName (or $pod.spec.hostNetwork false) (or $pod.metadata.uid "") (or $pod.metadata.name "") (or $pod.metadata.namespace "") }}
podIP: {{ index . 0 | Quote }}
podIPs:
      {{- range . }}
- ip: {{ . | Quote }}
      {{- end }}
    {{- end }}
  {{- end }}
{{- end -}}

{{- /* rekon.conditions: the conditions in .want ({type, status, reason, message}) as the
  patch writes them (ret.list): a condition keeps its lastTransitionTime while its status
  stays, and a reason or message it no longer has is removed. */ -}}
{{- define "rekon.conditions" -}}
  {{- $now := .now -}}
  {{- $old := .pod.status.conditions | default (list) -}}
  {{- $list := list -}}
  {{- range .want -}}
    {{- $want := . -}}
    {{- $at := $now -}}
    {{- range $old -}}
      {{- if and (eq .type $want.type) (eq .status $want.status) .lastTransitionTime -}}
        {{- $at = .lastTransitionTime -}}
      {{- end -}}
    {{- end -}}
    {{- $condition := dict "type" $want.type "status" $want.status "lastTransitionTime" $at "reason" nil "message" nil -}}
    {{- if $want.reason -}}
      {{- $_ := set $condition "reason" $want.reason -}}
    {{- end -}}
    {{- if $want.message -}}
      {{- $_ := set $condition "message" $want.message -}}
    {{- end -}}
    {{- $list = append $list $condition -}}
  {{- end -}}
  {{- $_ := set .ret "list" $list -}}
{{- end -}}
