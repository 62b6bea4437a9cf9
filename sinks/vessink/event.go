package vessink

import (
	"strconv"
	"time"
)

// vesEvent is one VES event before encoding: the header and the block of
// its domain. The encoder writes it in the shape of the configured major
// version.
type vesEvent struct {
	domain string
	header header

	fault        *faultFields
	heartbeat    *heartbeatFields
	stateChange  *stateChangeFields
	notification *notificationFields
	other        *otherFields
}

type header struct {
	eventID, eventName, eventType, priority string
	reportingEntityID, reportingEntityName  string
	sourceID, sourceName                    string
	sequence                                uint64
	startMicros, lastMicros                 int64
	// at is the event time, for timeZoneOffset; zero leaves it out.
	at time.Time
}

type faultFields struct {
	alarmCondition, eventSeverity, eventSourceType, specificProblem, vfStatus string
	alarmInterfaceA, eventCategory                                            string
	info                                                                      []field
}

type heartbeatFields struct {
	interval   int64
	additional []field
}

type stateChangeFields struct {
	newState, oldState, stateInterface string
	additional                         []field
}

type notificationFields struct {
	changeIdentifier, changeType, newState, oldState, stateInterface string
	additional                                                       []field
}

type otherFields struct {
	hashMap []field
	// object is a compact JSON object carried whole in jsonObjects, named
	// objectName; nil leaves jsonObjects out.
	object     []byte
	objectName string
	objectAt   int64
}

// encoder writes vesEvents for one major version.
type encoder struct {
	v5              bool
	listenerVersion string
	loc             *time.Location
}

// appendEvent appends ev as the JSON of one VES event (the value of
// "event", or one element of "eventList").
func (c *encoder) appendEvent(dst []byte, ev *vesEvent) []byte {
	dst = append(dst, `{"commonEventHeader":`...)
	dst = c.appendHeader(dst, ev.domain, &ev.header)
	switch {
	case ev.fault != nil:
		dst = c.appendFault(dst, ev.fault)
	case ev.heartbeat != nil:
		dst = c.appendHeartbeat(dst, ev.heartbeat)
	case ev.stateChange != nil:
		dst = c.appendStateChange(dst, ev.stateChange)
	case ev.notification != nil:
		dst = c.appendNotification(dst, ev.notification)
	case ev.other != nil:
		dst = c.appendOther(dst, ev.other)
	}
	return append(dst, '}')
}

func (c *encoder) appendHeader(dst []byte, domain string, h *header) []byte {
	dst = append(dst, `{"domain":`...)
	dst = appendString(dst, domain)
	dst = appendStringField(dst, "eventId", h.eventID)
	dst = appendStringField(dst, "eventName", h.eventName)
	if h.eventType != "" {
		dst = appendStringField(dst, "eventType", h.eventType)
	}
	dst = appendIntField(dst, "lastEpochMicrosec", h.lastMicros)
	dst = appendStringField(dst, "priority", h.priority)
	if h.reportingEntityID != "" {
		dst = appendStringField(dst, "reportingEntityId", h.reportingEntityID)
	}
	dst = appendStringField(dst, "reportingEntityName", h.reportingEntityName)
	dst = strconv.AppendUint(appendKey(dst, "sequence", false), h.sequence, 10)
	if h.sourceID != "" {
		dst = appendStringField(dst, "sourceId", h.sourceID)
	}
	dst = appendStringField(dst, "sourceName", h.sourceName)
	dst = appendIntField(dst, "startEpochMicrosec", h.startMicros)
	if c.v5 {
		// 28.4.1: version is a number, and there is no
		// vesEventListenerVersion or timeZoneOffset.
		dst = append(appendKey(dst, "version", false), "3.0"...)
		return append(dst, '}')
	}
	if !h.at.IsZero() {
		dst = appendZoneOffset(append(appendKey(dst, "timeZoneOffset", false), '"'), h.at, c.loc)
		dst = append(dst, '"')
	}
	dst = appendStringField(dst, "version", "4.1")
	dst = appendStringField(dst, "vesEventListenerVersion", c.listenerVersion)
	return append(dst, '}')
}

// appendVersion appends a block version: a string in v7, a number in v5.
func (c *encoder) appendVersion(dst []byte, key, v7, v5 string) []byte {
	dst = appendKey(dst, key, true)
	if c.v5 {
		return append(dst, v5...)
	}
	return appendString(dst, v7)
}

func (c *encoder) appendFault(dst []byte, f *faultFields) []byte {
	dst = append(dst, `,"faultFields":{`...)
	dst = c.appendVersion(dst, "faultFieldsVersion", "4.0", "2.0")
	dst = appendStringField(dst, "alarmCondition", f.alarmCondition)
	dst = appendStringField(dst, "eventSeverity", f.eventSeverity)
	dst = appendStringField(dst, "eventSourceType", f.eventSourceType)
	dst = appendStringField(dst, "specificProblem", f.specificProblem)
	dst = appendStringField(dst, "vfStatus", f.vfStatus)
	if f.alarmInterfaceA != "" {
		dst = appendStringField(dst, "alarmInterfaceA", f.alarmInterfaceA)
	}
	if f.eventCategory != "" {
		dst = appendStringField(dst, "eventCategory", f.eventCategory)
	}
	if len(f.info) > 0 {
		dst = appendFields(appendKey(dst, "alarmAdditionalInformation", false), f.info, c.v5)
	}
	return append(dst, '}')
}

func (c *encoder) appendHeartbeat(dst []byte, h *heartbeatFields) []byte {
	dst = append(dst, `,"heartbeatFields":{`...)
	dst = c.appendVersion(dst, "heartbeatFieldsVersion", "3.0", "1.0")
	dst = appendIntField(dst, "heartbeatInterval", h.interval)
	if len(h.additional) > 0 {
		dst = appendFields(appendKey(dst, "additionalFields", false), h.additional, c.v5)
	}
	return append(dst, '}')
}

func (c *encoder) appendStateChange(dst []byte, s *stateChangeFields) []byte {
	dst = append(dst, `,"stateChangeFields":{`...)
	dst = c.appendVersion(dst, "stateChangeFieldsVersion", "4.0", "2.0")
	dst = appendStringField(dst, "newState", s.newState)
	dst = appendStringField(dst, "oldState", s.oldState)
	dst = appendStringField(dst, "stateInterface", s.stateInterface)
	if len(s.additional) > 0 {
		dst = appendFields(appendKey(dst, "additionalFields", false), s.additional, c.v5)
	}
	return append(dst, '}')
}

// appendNotification is v7 only; the config refuses notification for v5.
func (c *encoder) appendNotification(dst []byte, n *notificationFields) []byte {
	dst = append(dst, `,"notificationFields":{`...)
	dst = c.appendVersion(dst, "notificationFieldsVersion", "2.0", "2.0")
	dst = appendStringField(dst, "changeIdentifier", n.changeIdentifier)
	dst = appendStringField(dst, "changeType", n.changeType)
	if n.newState != "" {
		dst = appendStringField(dst, "newState", n.newState)
	}
	if n.oldState != "" {
		dst = appendStringField(dst, "oldState", n.oldState)
	}
	if n.stateInterface != "" {
		dst = appendStringField(dst, "stateInterface", n.stateInterface)
	}
	if len(n.additional) > 0 {
		dst = appendFields(appendKey(dst, "additionalFields", false), n.additional, false)
	}
	return append(dst, '}')
}

func (c *encoder) appendOther(dst []byte, o *otherFields) []byte {
	dst = append(dst, `,"otherFields":{`...)
	// 28.4.1 only requires a number; 1.1 is the 5.4.1 block version
	// (inference from the spec's change history).
	dst = c.appendVersion(dst, "otherFieldsVersion", "3.0", "1.1")
	if len(o.hashMap) > 0 {
		key := "hashMap"
		if c.v5 {
			key = "nameValuePairs"
		}
		dst = appendFields(appendKey(dst, key, false), o.hashMap, c.v5)
	}
	if o.object != nil {
		dst = append(dst, `,"jsonObjects":[{"objectName":`...)
		dst = appendString(dst, o.objectName)
		dst = append(dst, `,"objectInstances":[{"objectInstance":`...)
		dst = append(dst, o.object...)
		dst = appendIntField(dst, "objectInstanceEpochMicrosec", o.objectAt)
		dst = append(dst, "}]}]"...)
	}
	return append(dst, '}')
}
