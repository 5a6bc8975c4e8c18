{{/* Chart name. */}}
{{- define "zicht.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified app name (release-chart, at most 63 characters). */}}
{{- define "zicht.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "zicht.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "zicht.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "zicht.selectorLabels" -}}
app.kubernetes.io/name: {{ include "zicht.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "zicht.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "zicht.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* engine.yaml: generated from the values, then .Values.config merged over it. */}}
{{- define "zicht.engineConfig" -}}
{{- $rules := list }}
{{- range .Values.imageRulePacks }}
{{- $rules = append $rules (printf "/usr/share/zicht/config/rules/%s" .) }}
{{- end }}
{{- range $file, $_ := .Values.rulePacks }}
{{- $rules = append $rules (printf "/etc/zicht/rules/%s" $file) }}
{{- end }}
{{- $http := dict "port" (int .Values.http.port) "bind" "0.0.0.0" }}
{{- if .Values.adminToken.existingSecret }}
{{- $_ := set $http "admin_token_file" (printf "/etc/zicht/secrets/admin/%s" .Values.adminToken.key) }}
{{- end }}
{{- $config := dict
  "source" (dict "kafka" (dict
      "bootstrap_servers" .Values.kafka.bootstrapServers
      "topic" .Values.kafka.topic
      "group_id" .Values.kafka.groupId
      "properties" .Values.kafka.properties))
  "sinks" (dict
      "alerts" (dict "kafka" (dict "topic" .Values.kafka.alertsTopic))
      "dead_letter" (dict "kafka" (dict "topic" .Values.kafka.deadLetterTopic)))
  "state" (dict "dir" "/var/lib/zicht")
  "rules" $rules
  "reference" (dict "municipalities" "/usr/share/zicht/config/reference/municipalities.csv")
  "http" $http
  "allowed_lateness" .Values.allowedLateness }}
{{- toYaml (mergeOverwrite $config (deepCopy .Values.config)) }}
{{- end }}
