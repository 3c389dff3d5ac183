class_name MocapOsc
extends RefCounted
## OSC 1.0 parsing that never fails loudly: a malformed or truncated packet yields what could
## be read. i, f and s arguments are read; b, h, t, d, c, r, m, T, F, N, I are skipped by size;
## an unknown type ends that message only.

const MAX_DEPTH := 8


## Every message of every packet waiting at ``peer``, as [address, args], in arrival order.
static func receive(peer: PacketPeerUDP) -> Array:
	var messages: Array = []
	while peer.get_available_packet_count() > 0:
		messages.append_array(parse(peer.get_packet()))
	return messages


## Every message in a packet as [address, args], nested bundles included.
static func parse(packet: PackedByteArray) -> Array:
	var messages: Array = []
	_element(packet, 0, packet.size(), messages, 0)
	return messages


static func _element(data: PackedByteArray, start: int, end: int, out: Array, depth: int) -> void:
	if start >= end or depth > MAX_DEPTH:
		return
	if data[start] == 35:  # '#': a bundle
		var read := _string(data, start, end)
		if read.is_empty() or read[0] != "#bundle":
			return
		var position: int = read[1] + 8  # past the time tag
		while position + 4 <= end:
			var size := _int(data, position)
			position += 4
			if size <= 0 or size > end - position or size % 4 != 0:
				return
			_element(data, position, position + size, out, depth + 1)
			position += size
	elif data[start] == 47:  # '/': a message
		var message := _message(data, start, end)
		if not message.is_empty():
			out.append(message)


static func _message(data: PackedByteArray, start: int, end: int) -> Array:
	var read := _string(data, start, end)
	if read.is_empty():
		return []
	var address: String = read[0]
	var position: int = read[1]
	if position >= end:
		return [address, []]
	read = _string(data, position, end)
	if read.is_empty() or not read[0].begins_with(","):
		return []
	var tags: String = read[0]
	position = read[1]
	var args: Array = []
	for t in range(1, tags.length()):
		var tag := tags[t]
		if tag == "i" or tag == "f":
			if position + 4 > end:
				return []
			args.append(_int(data, position) if tag == "i" else _float(data, position))
			position += 4
		elif tag == "s" or tag == "S":
			read = _string(data, position, end)
			if read.is_empty():
				return []
			args.append(read[0])
			position = read[1]
		elif tag == "b":
			if position + 4 > end:
				return []
			var size := _int(data, position)
			if size < 0 or size > end - position - 4:
				return []
			position += 4 + ((size + 3) & ~3)
		elif tag in ["h", "t", "d"]:
			position += 8
		elif tag in ["c", "r", "m"]:
			position += 4
		elif not tag in ["T", "F", "N", "I", "[", "]"]:
			return []
		if position > end:
			return []
	return [address, args]


## [text, position after its padding], or [] if the string does not end inside the packet.
static func _string(data: PackedByteArray, position: int, end: int) -> Array:
	var zero := position
	while zero < end and data[zero] != 0:
		zero += 1
	if zero >= end:
		return []
	var after := (zero + 4) & ~3
	if after > end:
		return []
	return [data.slice(position, zero).get_string_from_utf8(), after]


static func _int(data: PackedByteArray, position: int) -> int:
	var value := (data[position] << 24) | (data[position + 1] << 16)
	value |= (data[position + 2] << 8) | data[position + 3]
	return value - (1 << 32) if value >= (1 << 31) else value


static func _float(data: PackedByteArray, position: int) -> float:
	var bytes := PackedByteArray(
		[data[position + 3], data[position + 2], data[position + 1], data[position]]
	)
	return bytes.decode_float(0)
