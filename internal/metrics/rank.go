package metrics

import (
	"math"
)

// scored is one row kept for the rank metrics, in 16 bytes: its score as
// an order-preserving integer, its cell and label packed as
// cell<<1 | label, and its weight. Weights are stored as float32 while
// every weight is exactly a float32 (1 when unweighted, and most weights
// in practice); otherwise w holds the bits of an index into a side slice
// of float64 weights (see worker.keepScore).
type scored struct {
	key uint64
	tag uint32
	w   float32
}

// weight is the row's weight; side is the run's side slice or nil.
func (r *scored) weight(side []float64) float64 {
	if side == nil {
		return float64(r.w)
	}
	return side[math.Float32bits(r.w)]
}

// scoreKey maps a float64 to a uint64 with the same order, so rows sort by
// integer radix passes; -0 and +0 map to the same key so they tie.
func scoreKey(s float64) uint64 {
	if s == 0 {
		s = 0
	}
	b := math.Float64bits(s)
	if b>>63 != 0 {
		return ^b
	}
	return b | 1<<63
}

// radixSort sorts a by key with 11-bit LSD passes, skipping passes where
// every key has the same digit (the sign and exponent bits of scores in
// [0,1] hardly vary).
func radixSort(a []scored) {
	if len(a) < 2 {
		return
	}
	buf := make([]scored, len(a))
	src, dst := a, buf
	const bits = 11
	var count [1 << bits]int
	for shift := uint(0); shift < 64; shift += bits {
		clear(count[:])
		for i := range src {
			count[(src[i].key>>shift)&(1<<bits-1)]++
		}
		if count[(src[0].key>>shift)&(1<<bits-1)] == len(src) {
			continue
		}
		sum := 0
		for i, c := range count {
			count[i] = sum
			sum += c
		}
		for i := range src {
			d := (src[i].key >> shift) & (1<<bits - 1)
			dst[count[d]] = src[i]
			count[d]++
		}
		src, dst = dst, src
	}
	if &src[0] != &a[0] {
		copy(a, src)
	}
}

// keyScore inverts scoreKey.
func keyScore(k uint64) float64 {
	if k>>63 != 0 {
		return math.Float64frombits(k &^ (1 << 63))
	}
	return math.Float64frombits(^k)
}

// probStats are the sums behind brier, log_loss and ece of one group, over
// rows whose score is a probability.
type probStats struct {
	sw, brier, brier2, ll, ll2 float64
	bins                       [eceBins][3]float64 // weight, weighted score, weighted label
	out                        int64               // rows with a score outside [0, 1]
}

// rankStats are the rank metrics of one group.
type rankStats struct {
	prob     probStats
	pos, neg float64 // weighted positives and negatives
	m, n     int64   // unweighted positives and negatives
	auc      rate
	aucVar   rate // DeLong variance
	ap       rate
}

// rankWalk computes ROC AUC (Mann–Whitney with midranks for ties), its
// DeLong variance, average precision and the Brier, log-loss and
// calibration sums for every group in one pass over the rows in
// descending score order. runs are each sorted ascending;
// groupsOf lists the groups of a cell; pos/neg/m/n are each group's
// weighted and unweighted class totals.
func rankWalk(runs [][]scored, sides [][]float64, groupsOf [][]int32, pos, neg []float64, m, n []int64) []rankStats {
	g := len(pos)
	var (
		bp, bn          = make([]float64, g), make([]float64, g)
		negAbove, tpCum = make([]float64, g), make([]float64, g)
		aucNum, ap      = make([]float64, g), make([]float64, g)
		v10s, v10ss     = make([]float64, g), make([]float64, g)
		v01s, v01ss     = make([]float64, g), make([]float64, g)
		prob            = make([]probStats, g)
		bc              = make([]int64, g)
		touched         = make([]int32, 0, g)
		mark            = make([]bool, g)
		ends            = make([]int, len(runs))
	)
	for i, r := range runs {
		ends[i] = len(r)
	}
	flush := func(score float64) {
		// Per-row losses depend only on the score and the label, so a
		// block of equal scores needs two logarithms in all.
		inRange := score >= 0 && score <= 1
		var lossPos, lossNeg float64
		bin := 0
		if inRange {
			lossPos = -math.Log(min(max(score, logLossEps), 1-logLossEps))
			lossNeg = -math.Log(min(max(1-score, logLossEps), 1-logLossEps))
			bin = min(int(score*eceBins), eceBins-1)
		}
		dPos, dNeg := (1-score)*(1-score), score*score
		for _, gi := range touched {
			p, q := bp[gi], bn[gi]
			pr := &prob[gi]
			if !inRange {
				pr.out += bc[gi]
			} else {
				pr.sw += p + q
				pr.brier += p*dPos + q*dNeg
				pr.brier2 += p*dPos*dPos + q*dNeg*dNeg
				pr.ll += p*lossPos + q*lossNeg
				pr.ll2 += p*lossPos*lossPos + q*lossNeg*lossNeg
				pr.bins[bin][0] += p + q
				pr.bins[bin][1] += (p + q) * score
				pr.bins[bin][2] += p
			}
			bc[gi] = 0
			below := neg[gi] - negAbove[gi] - q
			aucNum[gi] += p * (below + 0.5*q)
			if p > 0 && neg[gi] > 0 {
				v := (below + 0.5*q) / neg[gi]
				v10s[gi] += p * v
				v10ss[gi] += p * v * v
			}
			if q > 0 && pos[gi] > 0 {
				v := (tpCum[gi] + 0.5*p) / pos[gi]
				v01s[gi] += q * v
				v01ss[gi] += q * v * v
			}
			tpCum[gi] += p
			negAbove[gi] += q
			if p > 0 && pos[gi] > 0 {
				ap[gi] += p / pos[gi] * tpCum[gi] / (tpCum[gi] + negAbove[gi])
			}
			bp[gi], bn[gi], mark[gi] = 0, 0, false
		}
		touched = touched[:0]
	}
	for {
		// The largest key left in any run starts the next block.
		best, have := uint64(0), false
		for i, r := range runs {
			if ends[i] > 0 && (!have || r[ends[i]-1].key > best) {
				best, have = r[ends[i]-1].key, true
			}
		}
		if !have {
			break
		}
		for i, r := range runs {
			e := ends[i]
			for e > 0 && r[e-1].key == best {
				e--
				rec := &r[e]
				wt := rec.weight(sides[i])
				for _, gi := range groupsOf[rec.tag>>1] {
					bc[gi]++
					if rec.tag&1 == 1 {
						bp[gi] += wt
					} else {
						bn[gi] += wt
					}
					if !mark[gi] {
						mark[gi] = true
						touched = append(touched, gi)
					}
				}
			}
			ends[i] = e
		}
		flush(keyScore(best))
	}
	out := make([]rankStats, g)
	for gi := range out {
		st := rankStats{prob: prob[gi], pos: pos[gi], neg: neg[gi], m: m[gi], n: n[gi]}
		if pos[gi] > 0 {
			st.ap = rate{ap[gi], true}
		}
		if pos[gi] > 0 && neg[gi] > 0 {
			st.auc = rate{aucNum[gi] / (pos[gi] * neg[gi]), true}
			if m[gi] > 1 && n[gi] > 1 {
				// DeLong: Var = S10/m + S01/n with the placement values'
				// sample variances (weights as frequencies of the means).
				mean10, mean01 := v10s[gi]/pos[gi], v01s[gi]/neg[gi]
				s10 := (v10ss[gi]/pos[gi] - mean10*mean10) * float64(m[gi]) / float64(m[gi]-1)
				s01 := (v01ss[gi]/neg[gi] - mean01*mean01) * float64(n[gi]) / float64(n[gi]-1)
				st.aucVar = rate{max(0, s10/float64(m[gi])+s01/float64(n[gi])), true}
			}
		}
		out[gi] = st
	}
	return out
}
