{{- /* Names, labels and images shared by every object of the chart. */ -}}

{{- define "lookout.name" -}}
{{- default "lookout" .Values.nameOverride | trunc 40 | trimSuffix "-" -}}
{{- end }}

{{- /* Release-scoped prefix of every object; short enough for "<fullname>-fulfillment-<hash>" to stay a valid name. */ -}}
{{- define "lookout.fullname" -}}
{{- if contains (include "lookout.name" .) .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "lookout.name" .) | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end }}

{{- define "lookout.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | quote }}
app.kubernetes.io/part-of: lookout
app.kubernetes.io/instance: {{ .Release.Name | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service | quote }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}

{{- /* Selector labels of one component: (dict "root" $ "name" "catalog"). */ -}}
{{- define "lookout.selectorLabels" -}}
app.kubernetes.io/name: {{ .name | quote }}
app.kubernetes.io/instance: {{ .root.Release.Name | quote }}
{{- end }}

{{- define "lookout.componentLabels" -}}
{{ include "lookout.labels" .root }}
{{ include "lookout.selectorLabels" . }}
{{- end }}

{{- /* The image of one of the shop's services: (dict "root" $ "name" "catalog"). */ -}}
{{- define "lookout.image" -}}
{{- $img := .root.Values.image -}}
{{- $repo := printf "%s%s" $img.repositoryPrefix .name -}}
{{- if $img.registry }}{{ $repo = printf "%s/%s" (trimSuffix "/" $img.registry) $repo }}{{ end -}}
{{- printf "%s:%s" $repo (default .root.Chart.AppVersion $img.tag) -}}
{{- end }}

{{- /* Closed by default: non-root, read-only root filesystem, no privilege escalation, no capabilities. */ -}}
{{- define "lookout.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .uid }}
runAsGroup: {{ .uid }}
fsGroup: {{ .uid }}
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "lookout.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: ["ALL"]
{{- end }}

{{- define "lookout.resources" -}}
requests:
  cpu: {{ .requests.cpu | quote }}
  memory: {{ .requests.memory | quote }}
limits:
  {{- if .limits.cpu }}
  cpu: {{ .limits.cpu | quote }}
  {{- end }}
  memory: {{ .limits.memory | quote }}
{{- end }}
