# Plots of the pktexpect benchmarks (gnuplot, SVG).
# Usage: gnuplot -e "results='bench/results'; out='bench'" bench/plots.gp
# Reads results/latency_cdf.dat and results/capture_sweep.dat (written by
# bench_latency and bench_capture; one data block per curve).
if (!exists("results")) results = 'bench/results'
if (!exists("out")) out = 'bench'

set terminal svg size 820,500 dynamic enhanced font "sans,12" background rgb "white"
set grid
set key left top

# Latency CDF: send-to-verdict of pktexpect (idle, loaded) against scapy.
cdf = results.'/latency_cdf.dat'
if (system('test -s '.cdf.' && echo y') eq "y") {
    set output out.'/latency_cdf.svg'
    set title "Send-to-verdict latency (arm, send one frame, wait for the verdict), veth"
    set xlabel "send-to-verdict latency (microseconds, log scale)"
    set ylabel "fraction of rounds"
    set logscale x
    set yrange [0:1.02]
    set key below
    set xrange [*:*]
    plot cdf index 0 using 1:2 with lines lw 2 title "pktexpect, idle port", \
         cdf index 1 using 1:2 with lines lw 2 title "pktexpect, port carrying 500 kframes/s", \
         cdf index 2 using 1:2 with lines lw 2 title "scapy AsyncSniffer, idle port"
    unset logscale x
    set output
}

# Seen fraction against the send rate.
sweep = results.'/capture_sweep.dat'
if (system('test -s '.sweep.' && echo y') eq "y") {
    set output out.'/capture_sweep.svg'
    set title "Frames seen against send rate (64-byte frames, veth, median of runs)"
    set xlabel "achieved send rate (frames/s, log scale)"
    set ylabel "fraction of frames seen"
    set logscale x
    set xrange [1000:3e6]
    set yrange [0:1.05]
    set key below
    plot sweep index 0 using 1:2:3:4 with yerrorlines lw 2 pt 7 title "pktexpect, 16 expectations", \
         sweep index 1 using 1:2:3:4 with yerrorlines lw 2 pt 5 title "tcpdump -w /dev/null", \
         sweep index 2 using 1:2:3:4 with yerrorlines lw 2 pt 9 title "scapy AsyncSniffer"
    unset logscale x
    set output
}
