package jinja

// Public attributes of Python's constant types: reading any other attribute
// of a constant gives Undefined in Jinja.
var constAttrs = map[kind]map[string]bool{
	kStr:   {"capitalize": true, "casefold": true, "center": true, "count": true, "encode": true, "endswith": true, "expandtabs": true, "find": true, "format": true, "format_map": true, "index": true, "isalnum": true, "isalpha": true, "isascii": true, "isdecimal": true, "isdigit": true, "isidentifier": true, "islower": true, "isnumeric": true, "isprintable": true, "isspace": true, "istitle": true, "isupper": true, "join": true, "ljust": true, "lower": true, "lstrip": true, "maketrans": true, "partition": true, "removeprefix": true, "removesuffix": true, "replace": true, "rfind": true, "rindex": true, "rjust": true, "rpartition": true, "rsplit": true, "rstrip": true, "split": true, "splitlines": true, "startswith": true, "strip": true, "swapcase": true, "title": true, "translate": true, "upper": true, "zfill": true},
	kList:  {"append": true, "clear": true, "copy": true, "count": true, "extend": true, "index": true, "insert": true, "pop": true, "remove": true, "reverse": true, "sort": true},
	kDict:  {"clear": true, "copy": true, "fromkeys": true, "get": true, "items": true, "keys": true, "pop": true, "popitem": true, "setdefault": true, "update": true, "values": true},
	kInt:   {"as_integer_ratio": true, "bit_count": true, "bit_length": true, "conjugate": true, "denominator": true, "from_bytes": true, "imag": true, "numerator": true, "real": true, "to_bytes": true},
	kBool:  {"as_integer_ratio": true, "bit_count": true, "bit_length": true, "conjugate": true, "denominator": true, "from_bytes": true, "imag": true, "numerator": true, "real": true, "to_bytes": true},
	kFloat: {"as_integer_ratio": true, "conjugate": true, "fromhex": true, "hex": true, "imag": true, "is_integer": true, "real": true},
}
