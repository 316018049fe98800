package query

import (
	"strconv"
	"strings"
	"time"
)

// Query types about events rather than counts: annotations for time series panels, and the
// probes with their last report.
const (
	TypeAnnotations = "annotations"
	TypeProbes      = "probes"
)

// Kinds of annotations (the annotation field).
const (
	// AnnotationGreylist: addresses entering and leaving the greylist (filters ip, asn).
	AnnotationGreylist = "greylist"
	// AnnotationAggregation: rollup windows closed late (gaps) and backfills.
	AnnotationAggregation = "aggregation"
	// AnnotationSilence: probes that sent nothing for SilenceThreshold or longer (filters probe).
	AnnotationSilence = "silence"
)

// Annotations lists the annotation kinds.
var Annotations = []string{AnnotationGreylist, AnnotationAggregation, AnnotationSilence}

// SilenceThreshold is how long a probe sends nothing before it counts as silent: the silence
// annotations, the probes' silent column and the provisioned "Probe silent" alert agree on it.
const SilenceThreshold = 6 * time.Hour

// DefaultAnnotationLimit bounds the annotations of one query when it gives no limit.
const DefaultAnnotationLimit = 1000

// annotationFilters are the filters each kind of annotation reads.
var annotationFilters = map[string][]string{
	AnnotationGreylist:    {"ip", "asn"},
	AnnotationAggregation: nil,
	AnnotationSilence:     {"probe"},
}

func (q Query) normalizeEvents() Query {
	switch q.QueryType {
	case TypeAnnotations:
		if q.Limit == 0 {
			q.Limit = DefaultAnnotationLimit
		}
		return Query{QueryType: q.QueryType, Annotation: q.Annotation, Limit: q.Limit, Filters: q.Filters, Exclude: q.Exclude}
	}
	return Query{QueryType: q.QueryType, Filters: q.Filters, Exclude: q.Exclude}
}

func (q Query) validateAnnotations() error {
	allowed, ok := annotationFilters[q.Annotation]
	if !ok {
		if q.Annotation == "" {
			return missing("annotation", "an annotations query needs one of "+strings.Join(Annotations, ", "))
		}
		return invalid("annotation", q.Annotation, Annotations, "unknown annotation")
	}
	if q.Limit < 0 || q.Limit > MaxLimit {
		return invalid("limit", strconv.Itoa(q.Limit), nil, "must be between 1 and "+strconv.Itoa(MaxLimit)+" (0 or absent for the default)")
	}
	if err := q.Filters.validate("filters", allowed, q.Annotation+" annotations cannot be filtered by"); err != nil {
		return err
	}
	return q.Exclude.validate("exclude", nil, "annotations cannot exclude by")
}

func (q Query) validateProbes() error {
	if err := q.Filters.validate("filters", []string{"probe"}, "a probes query cannot be filtered by"); err != nil {
		return err
	}
	return q.Exclude.validate("exclude", nil, "a probes query cannot exclude by")
}

// aboutOwnProbes reports whether q shows probes' own data (their reports over time).
func (q Query) aboutOwnProbes() bool {
	return q.QueryType == TypeProbes || q.QueryType == TypeAnnotations && q.Annotation == AnnotationSilence
}
