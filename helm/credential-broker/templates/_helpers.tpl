{{/* Names and labels shared by every template. */}}

{{- define "credential-broker.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "credential-broker.fullname" -}}
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

{{- define "credential-broker.selectorLabels" -}}
app.kubernetes.io/name: {{ include "credential-broker.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The `helm test` pod's labels: not the broker's selector labels, so no Service or PDB picks it. */}}
{{- define "credential-broker.testLabels" -}}
app.kubernetes.io/name: {{ include "credential-broker.name" . }}-test
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: test
{{- end }}

{{- define "credential-broker.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "credential-broker.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: token-broker
app.kubernetes.io/part-of: credential-broker
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "credential-broker.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "credential-broker.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* repository@digest when a digest is given (the tag is then ignored), else repository:tag. */}}
{{- define "credential-broker.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
The startup probe's failureThreshold: its budget is the broker's own startup timeout
(broker.health.startup-timeout, counted from the broker's start) plus a margin for the process's
boot before that clock starts, in whole probe periods, rounded up.
*/}}
{{- define "credential-broker.startupFailureThreshold" -}}
{{- $p := .Values.probes.startup }}
{{- $budget := add $p.warmUpTimeoutSeconds $p.bootMarginSeconds }}
{{- div (add $budget $p.periodSeconds -1) $p.periodSeconds }}
{{- end }}

{{/* Where the projected volume (Vault login token, CAs) is mounted, and its files. */}}
{{- define "credential-broker.identityDir" -}}/var/run/secrets/credential-broker{{- end }}
{{- define "credential-broker.configDir" -}}/etc/credential-broker{{- end }}

{{/*
The Vault client's settings, as container environment variables. quarkus-vault 4.7.0 builds its
client from the configuration sources it can see while Quarkus is still assembling them: system
properties, environment variables and application.properties files in the usual places, but not a
file named by QUARKUS_CONFIG_LOCATIONS. Any quarkus.vault.* key of extraConfig goes here too.
*/}}
{{- define "credential-broker.vaultClientEnv" -}}
{{- $identity := include "credential-broker.identityDir" . -}}
- name: QUARKUS_VAULT_URL
  value: {{ .Values.vault.address | quote }}
# Kubernetes auth with the projected service-account token (audience {{ .Values.vault.kubernetesAuth.audience }})
- name: QUARKUS_VAULT_AUTHENTICATION_KUBERNETES_ROLE
  value: {{ .Values.vault.kubernetesAuth.role | quote }}
- name: QUARKUS_VAULT_AUTHENTICATION_KUBERNETES_AUTH_MOUNT_PATH
  value: {{ .Values.vault.kubernetesAuth.mountPath | quote }}
- name: QUARKUS_VAULT_AUTHENTICATION_KUBERNETES_JWT_TOKEN_PATH
  value: {{ $identity }}/vault-token
# no service-account token is automounted, so there is no service-account CA file to read
- name: QUARKUS_VAULT_TLS_USE_KUBERNETES_CA_CERT
  value: "false"
{{- if .Values.vault.caCertificate.configMap }}
- name: QUARKUS_VAULT_TLS_CA_CERT
  value: {{ $identity }}/vault-ca.crt
{{- end }}
{{- range $key, $value := .Values.extraConfig }}
{{- if hasPrefix "quarkus.vault." $key }}
- name: {{ regexReplaceAll "[^A-Za-z0-9]" $key "_" | upper }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/* The required values, checked once, with messages that say what to set. */}}
{{- define "credential-broker.validate" -}}
{{- $_ := required "vault.address is required: Vault's URL, e.g. https://vault.vault.svc:8200" .Values.vault.address }}
{{- $_ := required "vault.kubernetesAuth.role is required: the Vault Kubernetes auth role bound to this ServiceAccount (deploy/vault/setup-kubernetes-auth.sh)" .Values.vault.kubernetesAuth.role }}
{{- $_ := required "auth.issuer is required: your cluster's service-account issuer, which signs the callers' tokens (kubectl get --raw /.well-known/openid-configuration prints it)" .Values.auth.issuer }}
{{- if not .Values.environments }}
{{- fail "environments is required: configure at least one, e.g. --set environments.sandbox.cloud=public" }}
{{- end }}
{{- $drain := add .Values.shutdown.delaySeconds .Values.shutdown.timeoutSeconds }}
{{- if le (int .Values.terminationGracePeriodSeconds) (int $drain) }}
{{- fail (printf "terminationGracePeriodSeconds (%d) must exceed shutdown.delaySeconds + shutdown.timeoutSeconds (%d): the kubelet would kill the broker while it drains" (int .Values.terminationGracePeriodSeconds) (int $drain)) }}
{{- end }}
{{- if eq (int .Values.containerPort) (int .Values.managementPort) }}
{{- fail "containerPort and managementPort must differ: the API and the management interface (probes, metrics) are separate listeners" }}
{{- end }}
{{- range $grant, $g := .Values.grants }}
{{- range $env := $g.environments }}
{{- if and (ne $env "*") (not (hasKey $.Values.environments $env)) }}
{{- fail (printf "grants.%s.environments names '%s', which is not under environments" $grant $env) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
