// Package reqmetrics counts and times requests the same way in every
// component that makes or answers them: a "<prefix>.requests" counter and
// a "<prefix>.request.duration" histogram in seconds, recorded together
// with the same attributes, on the buckets of DurationBuckets. The
// components choose the prefix, the descriptions and the attributes
// (status_class, endpoint, verb, ...); the pair and its recording live
// here once.
package reqmetrics
