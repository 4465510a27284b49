"""`generated.definitions`: the classes of a plugin's schema.json, made as the vSDK's generator makes them.

The vSDK generates Python files with swagger-codegen (Java) at build; dvx makes the same classes from the schemas when
the plugin is loaded, with the standard library only:
- a class per top-level definition (`repositoryDefinition` -> `RepositoryDefinition`) and per nested object property
  or array item (`VirtualSourceDefinitionConfig`);
- snake_case attributes from camelCase properties (`mountLocation` -> `mount_location`, `dSourceType` ->
  `d_source_type`), keyword (or, in property order, positional) arguments to the constructor;
- the schema's checks when constructing or setting (required not None, type, enum, pattern, minLength/maxLength,
  minimum/maximum and their exclusive forms): GeneratedClassesError, GeneratedClassesTypeError;
- `from_dict` (JSON names, no checks, as the vSDK's) and `to_dict` (JSON names, unset values left out);
- properties the vSDK's generator drops (a list of types, anyOf/allOf/oneOf/not) are dropped.
"""
import json
import re
import sys
import types

__all__ = ["snake_case", "make_definitions", "install", "GeneratedClassesError", "GeneratedClassesTypeError"]


class GeneratedClassesError(Exception):
    """A schema check failed when constructing or setting a generated object."""

    def __init__(self, message):
        self.message = message
        super().__init__(message)


class GeneratedClassesTypeError(GeneratedClassesError):
    """A value of the wrong type was given to a generated object."""


def snake_case(name):
    """The Python attribute of a schema property, as swagger's underscore(): `clusterFTSRAMSize` ->
    `cluster_ftsram_size`."""
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    name = re.sub(r"([a-z\d])([A-Z])", r"\1_\2", name)
    return name.replace("-", "_").lower()


def _class_name(name):
    return name[:1].upper() + name[1:]


_TYPES = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}
_TYPE_NAMES = {"string": "str", "integer": "int", "number": "float", "boolean": "bool", "array": "list", "object": "dict"}


class _Property(object):
    """One property of a generated class: its JSON name, attribute, schema and what it converts to."""

    def __init__(self, json_name, schema, required, nested):
        self.json_name = json_name
        self.attribute = snake_case(json_name)
        self.schema = schema
        self.required = required
        self.nested = nested  # a generated class (object) or, for arrays, the items' class
        self.type = schema.get("type") if isinstance(schema.get("type"), str) else None


def _dropped(schema):
    return isinstance(schema.get("type"), list) or any(key in schema for key in ("anyOf", "allOf", "oneOf", "not"))


class Model(object):
    """Base of the generated classes."""

    _properties = ()
    _by_attribute = {}

    def __init__(self, *args, validate=True, **kwargs):
        if len(args) > len(self._properties):
            raise TypeError(
                "{}() takes at most {} positional arguments ({} given)".format(
                    type(self).__name__, len(self._properties), len(args)
                )
            )
        values = {}
        for prop, value in zip(self._properties, args):
            values[prop.attribute] = value
        for name, value in kwargs.items():
            if name not in self._by_attribute:
                raise TypeError("{}() got an unexpected keyword argument '{}'".format(type(self).__name__, name))
            if name in values:
                raise TypeError("{}() got multiple values for argument '{}'".format(type(self).__name__, name))
            values[name] = value
        for prop in self._properties:
            value = values.get(prop.attribute)
            if validate:
                _check(type(self), prop, value)
            object.__setattr__(self, "_" + prop.attribute, value)

    def __setattr__(self, name, value):
        prop = self._by_attribute.get(name)
        if prop is None:
            object.__setattr__(self, name, value)
            return
        _check(type(self), prop, value)
        object.__setattr__(self, "_" + name, value)

    def __getattr__(self, name):
        prop = type(self)._by_attribute.get(name)
        if prop is None:
            raise AttributeError("'{}' object has no attribute '{}'".format(type(self).__name__, name))
        return self.__dict__.get("_" + name)

    @property
    def attribute_map(self):
        """Python attribute -> JSON name."""
        return {prop.attribute: prop.json_name for prop in self._properties}

    @classmethod
    def from_dict(cls, dikt):
        """An object of the JSON `dikt` (the schema's names); nested objects become their classes. No checks."""
        if dikt is None:
            return None
        if not isinstance(dikt, dict):
            raise GeneratedClassesTypeError(
                "{}.from_dict needs a dict, not '{}'.".format(cls.__name__, type(dikt).__name__)
            )
        values = {}
        for prop in cls._properties:
            if prop.json_name in dikt:
                values[prop.attribute] = _from_json(prop, dikt[prop.json_name])
        return cls(validate=False, **values)

    def to_dict(self):
        """The JSON of this object (the schema's names); values that are None are left out."""
        result = {}
        for prop in self._properties:
            value = self.__dict__.get("_" + prop.attribute)
            if value is not None:
                result[prop.json_name] = _to_json(value)
        return result

    def to_str(self):
        return json.dumps(self.to_dict(), sort_keys=True)

    def __repr__(self):
        return "{}({})".format(type(self).__name__, self.to_str())

    def __eq__(self, other):
        return type(other) is type(self) and other.to_dict() == self.to_dict()

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return hash((type(self).__name__, self.to_str()))


def _from_json(prop, value):
    if value is None or prop.nested is None:
        return value
    if prop.type == "array" and isinstance(value, list):
        return [prop.nested.from_dict(item) if isinstance(item, dict) else item for item in value]
    if isinstance(value, dict):
        return prop.nested.from_dict(value)
    return value


def _to_json(value):
    if isinstance(value, Model):
        return value.to_dict()
    if isinstance(value, list):
        return [_to_json(item) for item in value]
    if isinstance(value, dict):
        return {key: _to_json(item) for key, item in value.items()}
    return value


def _check(cls, prop, value):
    name = prop.attribute
    if value is None:
        if prop.required:
            raise GeneratedClassesError(
                "{}'s parameter '{}' is required but was None.".format(cls.__name__, name)
            )
        return
    schema = prop.schema
    if prop.type in _TYPES:
        expected = (prop.nested,) if prop.type == "object" and prop.nested is not None else _TYPES[prop.type]
        wrong = not isinstance(value, expected) or (prop.type in ("integer", "number") and isinstance(value, bool))
        if wrong:
            expected_name = prop.nested.__name__ if prop.type == "object" and prop.nested else _TYPE_NAMES[prop.type]
            raise GeneratedClassesTypeError(
                "{}'s parameter '{}' was type '{}' but should be of type '{}'.".format(
                    cls.__name__, name, type(value).__name__, expected_name
                )
            )
    if "enum" in schema and prop.type == "string" and value not in schema["enum"]:
        raise GeneratedClassesError(
            "Invalid value for '{}' ({!r}), must be one of {}.".format(name, value, schema["enum"])
        )
    if isinstance(value, str):
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            raise GeneratedClassesError(
                "Invalid value for '{}', length must be less than or equal to {}.".format(name, schema["maxLength"])
            )
        if "minLength" in schema and len(value) < schema["minLength"]:
            raise GeneratedClassesError(
                "Invalid value for '{}', length must be greater than or equal to {}.".format(name, schema["minLength"])
            )
        if "pattern" in schema and not re.search(schema["pattern"], value):
            raise GeneratedClassesError(
                "Invalid value for '{}' ({!r}), must follow the pattern '{}'.".format(name, value, schema["pattern"])
            )
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        _check_number(name, value, schema)


def _check_number(name, value, schema):
    minimum, maximum = schema.get("minimum"), schema.get("maximum")
    exclusive_min, exclusive_max = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    if exclusive_min is True:  # draft-04 form
        exclusive_min, minimum = minimum, None
    if exclusive_max is True:
        exclusive_max, maximum = maximum, None
    exclusive_min = None if exclusive_min is False else exclusive_min
    exclusive_max = None if exclusive_max is False else exclusive_max
    if minimum is not None and value < minimum:
        raise GeneratedClassesError(
            "Invalid value for '{}', must be a value greater than or equal to {}.".format(name, minimum)
        )
    if maximum is not None and value > maximum:
        raise GeneratedClassesError(
            "Invalid value for '{}', must be a value less than or equal to {}.".format(name, maximum)
        )
    if exclusive_min is not None and value <= exclusive_min:
        raise GeneratedClassesError(
            "Invalid value for '{}', must be a value greater than {}.".format(name, exclusive_min)
        )
    if exclusive_max is not None and value >= exclusive_max:
        raise GeneratedClassesError("Invalid value for '{}', must be a value less than {}.".format(name, exclusive_max))


def _object_class(name, schema, classes):
    """The class of an object schema (and, into `classes`, those of its nested objects)."""
    required = set(schema.get("required") or [])
    props = []
    additional = schema.get("additionalProperties")
    properties = {} if isinstance(additional, dict) else (schema.get("properties") or {})
    for json_name, prop_schema in properties.items():
        if not isinstance(prop_schema, dict) or _dropped(prop_schema):
            continue
        nested = None
        kind = prop_schema.get("type")
        if kind == "object" and _is_model(prop_schema):
            nested = _object_class(name + _class_name(json_name), prop_schema, classes)
        elif kind == "array" and isinstance(prop_schema.get("items"), dict) and _is_model(prop_schema["items"]):
            nested = _object_class(name + _class_name(json_name), prop_schema["items"], classes)
        props.append(_Property(json_name, prop_schema, json_name in required, nested))
    cls = type(
        name,
        (Model,),
        {
            "_properties": tuple(props),
            "_by_attribute": {prop.attribute: prop for prop in props},
            "__module__": "generated.definitions",
            "__doc__": schema.get("description") or "The plugin schema's {}.".format(name),
            "swagger_types": {prop.attribute: prop.type for prop in props},
        },
    )
    classes[name] = cls
    return cls


def _is_model(schema):
    return (
        schema.get("type") == "object"
        and isinstance(schema.get("properties"), dict)
        and not isinstance(schema.get("additionalProperties"), dict)
        and "$ref" not in schema
    )


def make_definitions(schemas):
    """The generated classes of a plugin's schema.json (`{repositoryDefinition: {...}, ...}`), by class name."""
    classes = {}
    for definition, schema in schemas.items():
        if isinstance(schema, dict):
            _object_class(_class_name(definition), schema, classes)
    return classes


def install(schemas):
    """Makes `generated` and `generated.definitions` importable with the classes of `schemas` (replacing any
    `generated` package of the plugin's source, which the vSDK's build would have overwritten too); also one module
    per class (`generated.definitions.repository_definition`)."""
    classes = make_definitions(schemas)
    for name in [name for name in sys.modules if name == "generated" or name.startswith("generated.")]:
        del sys.modules[name]
    generated = types.ModuleType("generated", "Classes generated from the plugin's schema.json.")
    generated.__path__ = []
    definitions = types.ModuleType("generated.definitions", "The plugin schema's classes.")
    definitions.__path__ = []
    definitions.GeneratedClassesError = GeneratedClassesError
    definitions.GeneratedClassesTypeError = GeneratedClassesTypeError
    definitions.Model = Model
    for name, cls in classes.items():
        setattr(definitions, name, cls)
        submodule = types.ModuleType("generated.definitions." + snake_case(name))
        setattr(submodule, name, cls)
        sys.modules[submodule.__name__] = submodule
        setattr(definitions, snake_case(name), submodule)
    definitions.__all__ = sorted(classes)
    generated.definitions = definitions
    sys.modules["generated"] = generated
    sys.modules["generated.definitions"] = definitions
    return definitions
