# Sourced by run.sh and in-dom0.sh. A suite file may run on some Xen releases only, named
# by one line near its top:
#   // xen-releases: 4.17
# (e.g. it needs libvirt 9.0.0, which only the 4.17 dom0 has: the host's bookworm userland).
# On the other releases it is neither run nor counted as declared; on its releases it
# counts and must pass like any other (under CI=true a skip there is a failure).
# No such line: every release.

# The releases a suite names, space-separated; empty = every release. $1 = suite file.
suite_releases() {
  sed -nE '1,40{s#^// xen-releases:[[:space:]]*(.*[^[:space:]])[[:space:]]*$#\1#p}' "$1" | head -n1 | tr ',' ' '
}

# True when suite file $1 runs on release $2 (e.g. 4.17).
suite_runs_on() {
  local want
  want=$(suite_releases "$1")
  [ -z "$want" ] && return 0
  case " $want " in *" $2 "*) return 0 ;; esac
  return 1
}
