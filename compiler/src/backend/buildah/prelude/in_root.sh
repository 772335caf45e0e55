# in_root ROOT PATH: PATH resolved inside ROOT as if ROOT were `/`, as BuildKit resolves
# a bind's source: `..` stops at ROOT, a symlink is read relative to ROOT (at most 255),
# so nothing leads out to the host. Leaves ROOT/RESOLVED in $resolved.
in_root() {
  local root=$1 rest=$2 done='' part link hops=0
  while [[ -n $rest ]]; do
    part=${rest%%/*}
    if [[ $rest == */* ]]; then rest=${rest#*/}; else rest=''; fi
    case $part in
    '' | .) ;;
    ..) done=${done%/*} ;;
    *)
      if [[ -L $root$done/$part ]]; then
        ((++hops <= 255)) || fail "$2: too many levels of symbolic links"
        # The dot keeps a link's trailing newlines from $(...).
        link=$(readlink -- "$root$done/$part" && echo .)
        link=${link%$'\n.'}
        [[ $link != /* ]] || done=''
        rest=$link/$rest
      else
        done=$done/$part
      fi
      ;;
    esac
  done
  resolved=$root$done
}
