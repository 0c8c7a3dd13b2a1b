package rollout

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Split routes requests between named variants by weight, for A/B tests
// and canaries. A request with a key (a client or user id) always reaches
// the same variant: the choice is a hash of the key, not process state, so
// it holds across requests, restarts and replicas as long as the weights
// are the same. A request without a key is split by weight with a random
// number the caller supplies.
//
// The zero value is not usable: build a Split with ParseSplit or NewSplit.
// A Split is immutable and safe for concurrent use; to change weights,
// build a new one and swap it in.
type Split struct {
	arms  []Arm
	upper []uint64 // cumulative weights: arm i takes [upper[i-1], upper[i])
}

// Arm is one variant of a Split: a name (a registry model name, say) and a
// non-negative integer weight.
type Arm struct {
	Name   string
	Weight int
}

// ParseSplit reads a split written as "name=weight,name=weight", such as
// "decision_tree=90,xgboost=10". A lone name ("xgboost") gets all traffic.
// Weights are non-negative integers, at least one positive; names are
// unique and checked by the caller against what it can load.
func ParseSplit(s string) (*Split, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("rollout: split: empty")
	}
	if !strings.ContainsAny(s, "=,") {
		return NewSplit([]Arm{{Name: s, Weight: 1}})
	}
	var arms []Arm
	for part := range strings.SplitSeq(s, ",") {
		name, w, ok := strings.Cut(part, "=")
		name = strings.TrimSpace(name)
		if !ok {
			return nil, fmt.Errorf("rollout: split: %q is not name=weight", strings.TrimSpace(part))
		}
		weight, err := strconv.Atoi(strings.TrimSpace(w))
		if err != nil {
			return nil, fmt.Errorf("rollout: split: weight of %q is %q, not an integer", name, strings.TrimSpace(w))
		}
		arms = append(arms, Arm{Name: name, Weight: weight})
	}
	return NewSplit(arms)
}

// NewSplit returns a split over arms, in their order.
func NewSplit(arms []Arm) (*Split, error) {
	if len(arms) == 0 {
		return nil, errors.New("rollout: split: no variants")
	}
	s := &Split{arms: append([]Arm(nil), arms...)}
	seen := map[string]bool{}
	var total uint64
	for _, a := range arms {
		switch {
		case a.Name == "":
			return nil, errors.New("rollout: split: a variant has no name")
		case seen[a.Name]:
			return nil, fmt.Errorf("rollout: split: variant %q appears twice", a.Name)
		case a.Weight < 0 || a.Weight > 1_000_000:
			return nil, fmt.Errorf("rollout: split: weight of %q is %d, want 0 to 1000000", a.Name, a.Weight)
		}
		seen[a.Name] = true
		total += uint64(a.Weight)
		s.upper = append(s.upper, total)
	}
	if total == 0 {
		return nil, errors.New("rollout: split: every weight is 0")
	}
	return s, nil
}

// Arms returns the split's variants in order. The slice must not be modified.
func (s *Split) Arms() []Arm { return s.arms }

// String writes the split as ParseSplit reads it.
func (s *Split) String() string {
	parts := make([]string, len(s.arms))
	for i, a := range s.arms {
		parts[i] = a.Name + "=" + strconv.Itoa(a.Weight)
	}
	return strings.Join(parts, ",")
}

// ForKey returns the arm that key is assigned to. The same key and weights
// give the same arm in every process.
func (s *Split) ForKey(key string) Arm { return s.arms[s.keyIndex(key)] }

// ForRandom returns the arm for a request without a key; u must be uniform
// in [0, 1) (rand.Float64).
func (s *Split) ForRandom(u float64) Arm { return s.arms[s.randomIndex(u)] }

// keyIndex is the position of key's arm: FNV-1a of the key's bytes (written
// out so that it allocates nothing), spread by mix.
func (s *Split) keyIndex(key string) int {
	const offset64, prime64 = 14695981039346656037, 1099511628211
	h := uint64(offset64)
	for i := 0; i < len(key); i++ {
		h ^= uint64(key[i])
		h *= prime64
	}
	return s.at(mix(h))
}

// randomIndex is the position of the arm for a uniform u.
func (s *Split) randomIndex(u float64) int {
	u = min(max(u, 0), math.Nextafter(1, 0))
	return s.at(uint64(u * (1 << 63)))
}

// at maps a uniform 63-bit value to an arm's position.
func (s *Split) at(x uint64) int {
	total := s.upper[len(s.upper)-1]
	// Scale x from [0, 2^63) to [0, total) without modulo bias worth the
	// name. Float rounding can give total itself for the largest x: clamp,
	// so that a zero-weight last arm is never picked.
	pos := min(uint64((float64(x&(1<<63-1))/(1<<63))*float64(total)), total-1)
	i := 0
	for pos >= s.upper[i] { // ends: pos < total == the last upper bound
		i++
	}
	return i
}

// mix is splitmix64's finaliser: it spreads FNV's hash of similar keys
// ("client-1", "client-2") over all bits.
func mix(z uint64) uint64 {
	z ^= z >> 30
	z *= 0xbf58476d1ce4e5b9
	z ^= z >> 27
	z *= 0x94d049bb133111eb
	z ^= z >> 31
	return z >> 1
}
