case $pull in
always | missing | never) ;;
*)
  echo "${0##*/}: STOWPLAN_PULL must be always, missing or never" >&2
  exit 1
  ;;
esac
