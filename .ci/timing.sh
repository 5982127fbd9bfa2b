# Timing helpers sourced by .ci/bench-check, .ci/bench-cue-vet and
# .ci/bench-terraform; they set $work first.
# cpu_ms prints the CPU time (user+sys) of every process this shell has
# waited for, Terraform's included, as `times` wrote it to $work/times:
# on a shared machine it is steadier than the wall time. `times` must run
# in this shell (a subshell's children are its own), so t calls it
# directly and only the parsing runs in a subshell.
cpu_ms() { awk 'NR == 2 { n = 0; for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); n += a[1] * 60000 + a[2] * 1000 } printf "%d\n", n }' "$work/times"; }
# t runs its arguments and prints their wall time and CPU time in ms.
t() {
	local s e c0
	times >"$work/times"
	c0=$(cpu_ms)
	s=$(date +%s%N)
	"$@"
	e=$(date +%s%N)
	times >"$work/times"
	echo "$(((e - s) / 1000000)) $(($(cpu_ms) - c0))"
}
# median prints the median of the numbers on its input, one a line.
median() { sort -n | awk '{a[NR]=$1} END{print (NR%2) ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)}'; }
