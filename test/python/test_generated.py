"""generated.definitions made from schema.json: names, checks, from_dict/to_dict, nested classes."""
import unittest

import support  # noqa: F401

from dlpx.virtualization import _generated

SCHEMAS = {
    "repositoryDefinition": {
        "type": "object",
        "required": ["name"],
        "additionalProperties": False,
        "properties": {
            "name": {"type": "string", "maxLength": 20},
            "installPath": {"type": "string", "format": "unixpath", "pattern": "^/"},
            "dSourceType": {"type": "string", "enum": ["full", "incremental"]},
            "clusterFTSRAMSize": {"type": "integer", "minimum": 256, "maximum": 4096},
            "ratio": {"type": "number", "exclusiveMinimum": 0},
            "enabled": {"type": "boolean"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "either": {"type": ["string", "integer"]},
            "choice": {"anyOf": [{"type": "string"}]},
            "credentials": {"$ref": "https://delphix.com/platform/api#/definitions/credentialsSupplier"},
            "extra": {"type": "object", "additionalProperties": {"type": "string"}},
        },
        "identityFields": ["name"],
        "nameField": "name",
    },
    "virtualSourceDefinition": {
        "type": "object",
        "properties": {
            "config": {
                "type": "object",
                "required": ["port"],
                "properties": {"port": {"type": "integer"}, "mountLocation": {"type": "string"}},
            },
            "nodes": {"type": "array", "items": {"type": "object", "properties": {"hostName": {"type": "string"}}}},
        },
    },
    "snapshotDefinition": {"type": "object", "properties": {}},
}


class GeneratedTest(unittest.TestCase):
    def setUp(self):
        self.definitions = _generated.install(SCHEMAS)

    def test_snake_case_as_swagger(self):
        for name, attribute in [
            ("mountLocation", "mount_location"),
            ("dSourceType", "d_source_type"),
            ("clusterFTSRAMSize", "cluster_ftsram_size"),
            ("couchbaseSrcPort", "couchbase_src_port"),
            ("name", "name"),
            ("some-name", "some_name"),
        ]:
            self.assertEqual(_generated.snake_case(name), attribute)

    def test_importable_as_the_vsdk_generates_it(self):
        from generated.definitions import RepositoryDefinition, SnapshotDefinition, VirtualSourceDefinitionConfig
        from generated.definitions.repository_definition import RepositoryDefinition as same

        self.assertIs(RepositoryDefinition, same)
        self.assertEqual(SnapshotDefinition().to_dict(), {})
        self.assertEqual(VirtualSourceDefinitionConfig(port=1).port, 1)

    def test_constructor_attributes_and_to_dict_leaving_out_unset_values(self):
        repository = self.definitions.RepositoryDefinition(
            name="pg", install_path="/opt/pg", d_source_type="full", cluster_ftsram_size=512, tags=["a"]
        )
        self.assertEqual(repository.install_path, "/opt/pg")
        self.assertIsNone(repository.enabled)
        self.assertEqual(
            repository.to_dict(),
            {"name": "pg", "installPath": "/opt/pg", "dSourceType": "full", "clusterFTSRAMSize": 512, "tags": ["a"]},
        )
        self.assertEqual(repository, self.definitions.RepositoryDefinition.from_dict(repository.to_dict()))
        self.assertEqual(hash(repository), hash(self.definitions.RepositoryDefinition.from_dict(repository.to_dict())))
        self.assertEqual(self.definitions.RepositoryDefinition("pg").name, "pg")

    def test_properties_the_generator_drops_are_dropped(self):
        with self.assertRaises(TypeError):
            self.definitions.RepositoryDefinition(name="pg", either="x")
        with self.assertRaises(TypeError):
            self.definitions.RepositoryDefinition(name="pg", choice="x")
        supplier = {"type": "NamedPasswordCredential", "password": "p"}
        repository = self.definitions.RepositoryDefinition(name="pg", credentials=supplier, extra={"a": "b"})
        self.assertEqual(repository.credentials, supplier)
        self.assertEqual(repository.extra, {"a": "b"})

    def test_the_schema_checks_on_construction_and_on_set(self):
        RepositoryDefinition = self.definitions.RepositoryDefinition
        errors = [
            (lambda: RepositoryDefinition(), "'name' is required"),
            (lambda: RepositoryDefinition(name=5), "was type 'int' but should be of type 'str'"),
            (lambda: RepositoryDefinition(name="x" * 21), "length must be less than or equal to 20"),
            (lambda: RepositoryDefinition(name="x", install_path="rel"), "must follow the pattern"),
            (lambda: RepositoryDefinition(name="x", d_source_type="other"), "must be one of"),
            (lambda: RepositoryDefinition(name="x", cluster_ftsram_size=100), "greater than or equal to 256"),
            (lambda: RepositoryDefinition(name="x", cluster_ftsram_size=5000), "less than or equal to 4096"),
            (lambda: RepositoryDefinition(name="x", cluster_ftsram_size=True), "should be of type 'int'"),
            (lambda: RepositoryDefinition(name="x", ratio=0), "greater than 0"),
            (lambda: RepositoryDefinition(name="x", enabled="yes"), "should be of type 'bool'"),
            (lambda: RepositoryDefinition(name="x", tags="a"), "should be of type 'list'"),
        ]
        for make, message in errors:
            with self.assertRaises(_generated.GeneratedClassesError) as raised:
                make()
            self.assertIn(message, str(raised.exception))
        repository = RepositoryDefinition(name="x")
        with self.assertRaises(_generated.GeneratedClassesTypeError):
            repository.name = 3
        with self.assertRaises(_generated.GeneratedClassesError):
            repository.name = None
        repository.ratio = 1.5
        self.assertEqual(repository.to_dict(), {"name": "x", "ratio": 1.5})
        self.assertIs(self.definitions.GeneratedClassesError, _generated.GeneratedClassesError)

    def test_nested_objects_and_arrays_of_objects(self):
        source = self.definitions.VirtualSourceDefinition.from_dict(
            {"config": {"port": 5432, "mountLocation": "/mnt"}, "nodes": [{"hostName": "a"}, {"hostName": "b"}]}
        )
        self.assertIsInstance(source.config, self.definitions.VirtualSourceDefinitionConfig)
        self.assertEqual(source.config.mount_location, "/mnt")
        self.assertEqual([node.host_name for node in source.nodes], ["a", "b"])
        self.assertIsInstance(source.nodes[0], self.definitions.VirtualSourceDefinitionNodes)
        self.assertEqual(
            source.to_dict(),
            {"config": {"port": 5432, "mountLocation": "/mnt"}, "nodes": [{"hostName": "a"}, {"hostName": "b"}]},
        )
        with self.assertRaises(_generated.GeneratedClassesTypeError):
            self.definitions.VirtualSourceDefinition(config={"port": 1})
        with self.assertRaises(_generated.GeneratedClassesError):
            self.definitions.VirtualSourceDefinitionConfig()

    def test_from_dict_does_not_check(self):
        # as the vSDK's (validate=False): the engine has checked stored values against the schema already
        repository = self.definitions.RepositoryDefinition.from_dict({"installPath": "rel", "unknown": 1})
        self.assertIsNone(repository.name)
        self.assertEqual(repository.to_dict(), {"installPath": "rel"})


if __name__ == "__main__":
    unittest.main()
