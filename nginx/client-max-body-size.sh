#!/bin/sh
# Write nginx's body limit from the app's upload cap, so nginx refuses exactly what the app would:
#   client_max_body_size <CSVA_UPLOAD_MAX_BYTES + 65536>;
# 65536 is the multipart envelope the app allows around the file (ENVELOPE_BYTES in
# csv_processor/upload_limits.py); the cap defaults to 200 MiB, as in csv_analyzer/settings.py.
# nginx.conf includes the file written here: $NGINX_BODY_LIMIT_CONF, /tmp/nginx/client_max_body_size.conf by
# default. The image runs this from /docker-entrypoint.d/ before nginx starts; a value that is not a whole
# number of bytes stops the container with a message. The stack test's harness runs it too.
# No `set -e` and no `exit` on success: some versions of the entrypoint source these scripts.

csva_limit_file="${NGINX_BODY_LIMIT_CONF:-/tmp/nginx/client_max_body_size.conf}"
# Surrounding blanks are ignored and an empty value means the default, as the app's env_int does.
csva_cap="$(printf '%s' "${CSVA_UPLOAD_MAX_BYTES:-}" | sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//')"
case "$csva_cap" in
    "") csva_cap=209715200 ;;
    *[!0-9]*)
        echo "client-max-body-size.sh: CSVA_UPLOAD_MAX_BYTES must be a whole number of bytes, got '$csva_cap'" >&2
        exit 1
        ;;
esac
# Leading zeros would make the shell read the number as octal.
csva_cap="$(printf '%s' "$csva_cap" | sed -e 's/^0*//')"
csva_cap="${csva_cap:-0}"
# Fifteen digits (under a petabyte) keep the sum far from the shell's integer limit.
if [ "${#csva_cap}" -gt 15 ]; then
    echo "client-max-body-size.sh: CSVA_UPLOAD_MAX_BYTES is too large: $csva_cap bytes" >&2
    exit 1
fi
csva_limit=$((csva_cap + 65536))

mkdir -p "${csva_limit_file%/*}" || exit 1
if ! printf 'client_max_body_size %s;\n' "$csva_limit" >"$csva_limit_file"; then
    echo "client-max-body-size.sh: cannot write $csva_limit_file" >&2
    exit 1
fi
echo "client-max-body-size.sh: client_max_body_size $csva_limit (CSVA_UPLOAD_MAX_BYTES $csva_cap + 64 KiB) in $csva_limit_file"
