#!/bin/sh
# azd preprovision hook: give the azd environment a NOTIFICATION_CLIENT_STATE
# (the secret Graph echoes in every change notification) the first time, and
# keep it on later runs so Graph subscriptions stay valid.
set -eu
current=$(azd env get-value NOTIFICATION_CLIENT_STATE 2>/dev/null || true)
case "$current" in
  ''|ERROR*)
    azd env set NOTIFICATION_CLIENT_STATE "$(openssl rand -hex 32)"
    echo "NOTIFICATION_CLIENT_STATE generated for this azd environment"
    ;;
esac
