{{/*
What each process listens on and reads (docs/operations.md, "Processes and
ports"): its public listeners, the secrets it gets as files, and whether it
mounts data_dir. The operations listener (:10189) of every process serves
/healthz, /readyz and /metrics.
*/}}
{{- define "esign.processes" -}}
oss:
  ports: {realtime: 10180, admin: 10181, webhook: 10182, mobile: 10185}
  secrets: [database-url, amqp-url, redis-url, crypto-keys]
  data: true
  db: true
css:
  ports: {customer: 10183, customer-rt: 10184}
  secrets: [amqp-url]
pdfservice:
  ports: {}
  secrets: [database-url, amqp-url, crypto-keys]
  db: true
cron:
  ports: {}
  secrets: [database-url, amqp-url, redis-url, crypto-keys]
  data: true
  db: true
tsa:
  ports: {tsa: 10188}
  secrets: [crypto-keys]
  data: true
{{- end -}}

{{- define "esign.name" -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}

{{- define "esign.labels" -}}
app.kubernetes.io/name: esign
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "esign.selector" -}}
app.kubernetes.io/name: esign
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .process }}
{{- end -}}

{{- define "esign.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}
{{- end -}}

{{- define "esign.dataClaim" -}}
{{- .Values.persistence.existingClaim | default (printf "%s-data" (include "esign.name" .)) -}}
{{- end -}}

{{/* The environment of a process: dict "root" $ "process" NAME "spec" SPEC */}}
{{- define "esign.env" -}}
{{- $v := .root.Values -}}
- name: ESIGN_DATA_DIR
  value: /var/lib/esign
- name: ESIGN_LISTEN_OPS
  value: "0.0.0.0:10189"
{{- range $name, $port := .spec.ports }}
- name: ESIGN_LISTEN_{{ $name | replace "customer-rt" "customer_realtime" | upper }}
  value: "0.0.0.0:{{ $port }}"
{{- end }}
{{- if .spec.db }}
- name: ESIGN_DATABASE_DRIVER
  value: postgres
- name: ESIGN_DATABASE_AUTO_MIGRATE
  value: "false"
{{- end }}
{{- if and $v.tsa.enabled (not $v.config.ESIGN_TSA_URL) }}
- name: ESIGN_TSA_URL
  value: "http://{{ include "esign.name" .root }}-tsa:10188/"
- name: ESIGN_TSA_PUBLIC_URL
  value: "http://{{ include "esign.name" .root }}-tsa:10188"
{{- end }}
{{- range $key := .spec.secrets }}
- name: {{ index $v.secrets.files $key }}
  value: /run/secrets/esign/{{ $key }}
{{- end }}
{{- range $key, $var := $v.secrets.extraFiles }}
- name: {{ $var }}
  value: /run/secrets/esign/{{ $key }}
{{- end }}
{{- range $k, $val := $v.config }}
{{- if ne (toString $val) "" }}
- name: {{ $k }}
  value: {{ toString $val | quote }}
{{- end }}
{{- end }}
{{- end -}}

{{/* The secret files of a process, as a projected volume. */}}
{{- define "esign.secretVolume" -}}
- name: secrets
  projected:
    defaultMode: 0440
    sources:
      - secret:
          name: {{ .root.Values.secrets.name }}
          items:
{{- range $key := .spec.secrets }}
            - {key: {{ $key }}, path: {{ $key }}}
{{- end }}
{{- range $key, $var := .root.Values.secrets.extraFiles }}
            - {key: {{ $key }}, path: {{ $key }}}
{{- end }}
{{- end -}}
