package vessink

// item is one encoded event of a Deliver batch, with its index there.
type item struct {
	index  int
	domain string
	body   []byte
}

// Envelope overhead of a request body.
const (
	singleOverhead = len(`{"event":}`)
	batchOverhead  = len(`{"eventList":[]}`)
)

// chunks splits items, in order, into the contents of requests: runs of
// consecutive items of one domain (VES: "all events in a batch must be in
// one domain"), each of at most maxEvents items and maxBytes of body. An
// item too large for maxBytes on its own gets a request of its own. Items
// are never reordered, so the collector sees events in journal order.
func chunks(items []item, maxEvents, maxBytes int) [][]item {
	var out [][]item
	start, size := 0, 0
	for i, it := range items {
		n := i - start
		if n > 0 && (it.domain != items[start].domain || n >= maxEvents || size+1+len(it.body) > maxBytes) {
			out = append(out, items[start:i])
			start, n = i, 0
		}
		if n == 0 {
			size = batchOverhead + len(it.body)
		} else {
			size += 1 + len(it.body)
		}
	}
	if start < len(items) {
		out = append(out, items[start:])
	}
	return out
}

// requestBody returns the body for items: {"event":...} for one,
// {"eventList":[...]} for several.
func requestBody(items []item) []byte {
	if len(items) == 1 {
		b := make([]byte, 0, singleOverhead+len(items[0].body))
		b = append(b, `{"event":`...)
		b = append(b, items[0].body...)
		return append(b, '}')
	}
	n := batchOverhead + len(items)
	for _, it := range items {
		n += len(it.body)
	}
	b := make([]byte, 0, n)
	b = append(b, `{"eventList":[`...)
	for i, it := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, it.body...)
	}
	return append(b, "]}"...)
}
