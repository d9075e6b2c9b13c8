"""Unit tests for scripts/gen-docs.py: run with `python3 -m unittest discover -s scripts/tests`."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import tempfile
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
SPEC = importlib.util.spec_from_file_location("gen_docs", REPO / "scripts" / "gen-docs.py")
gen_docs = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(gen_docs)

SAMPLE = HERE / "testdata" / "stagesub-schema.json"


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = gen_docs.main(list(argv))
    return code, out.getvalue(), err.getvalue()


def section(page: str, heading: str) -> str:
    """Text of a "### heading" section up to the next heading."""
    start = page.index(f"\n{heading}\n") + len(heading) + 2
    rest = page[start:]
    ends = [i for i in (rest.find("\n### "), rest.find("\n## "), rest.find("\n<a id=")) if i >= 0]
    return rest[: min(ends)] if ends else rest


class TypeNames(unittest.TestCase):
    def test_primitive_and_collection_types(self):
        self.assertEqual(gen_docs.type_name("string"), "String")
        self.assertEqual(gen_docs.type_name("bool"), "Boolean")
        self.assertEqual(gen_docs.type_name(["list", "string"]), "List of String")
        self.assertEqual(gen_docs.type_name(["map", ["set", "number"]]), "Map of Set of Number")
        self.assertEqual(gen_docs.type_name(["object", {"a": "string"}]), "Object")

    def test_unknown_type_is_an_error_naming_it(self):
        with self.assertRaisesRegex(gen_docs.DocsError, "widget"):
            gen_docs.type_name(["widget", "string"])


class ResourcePage(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pages = gen_docs.generate(json.loads(SAMPLE.read_text()), REPO / "examples")
        cls.page = cls.pages["resources/orchestra_database.md"]

    def test_pages_follow_the_registry_layout(self):
        self.assertEqual(
            sorted(self.pages), ["data-sources/orchestra_database.md", "index.md", "resources/orchestra_database.md"]
        )

    def test_front_matter_and_title(self):
        self.assertTrue(self.page.startswith("---\n"))
        self.assertIn('page_title: "stagesub_orchestra_database Resource - terraform-provider-stagesub"', self.page)
        self.assertIn("# stagesub_orchestra_database (Resource)\n", self.page)

    def test_attributes_are_grouped_and_sorted(self):
        required = section(self.page, "### Required")
        self.assertIn("- `subdomain` (String) The orchestra's subdomain, a DNS label", required)
        self.assertLess(required.index("`orchestra_name`"), required.index("`subdomain`"))
        read_only = section(self.page, "### Read-Only")
        self.assertIn("- `database_url` (String, Sensitive)", read_only)
        self.assertIn("- `applied_migrations` (List of String)", read_only)
        self.assertNotIn("`subdomain`", read_only)

    def test_write_only_attribute_is_flagged_with_the_version_note(self):
        optional = section(self.page, "### Optional")
        self.assertIn(gen_docs.WRITE_ONLY_NOTE, optional)
        self.assertIn("`database_password_wo` (String, Sensitive, [Write-only]", optional)

    def test_nested_block_links_to_its_section(self):
        self.assertIn("- `timeouts` (Block, Optional) (see [below for nested schema](#nestedblock--timeouts))", self.page)
        nested = self.page[self.page.index('<a id="nestedblock--timeouts"></a>'):]
        self.assertIn("### Nested Schema for `timeouts`\n\nOptional:\n\n- `create` (String)", nested)

    def test_examples_and_import_come_from_the_examples_folder(self):
        resource_tf = (REPO / "examples/resources/stagesub_orchestra_database/resource.tf").read_text()
        import_sh = (REPO / "examples/resources/stagesub_orchestra_database/import.sh").read_text()
        self.assertIn("## Example Usage\n\n```terraform\n" + resource_tf, self.page)
        self.assertIn("## Import", self.page)
        self.assertIn("```shell\n" + import_sh, self.page)
        self.assertIn("import {", self.page)

    def test_provider_index_lists_configuration(self):
        index = self.pages["index.md"]
        self.assertIn("# stagesub Provider", index)
        self.assertIn("- `access_token` (String, Sensitive)", section(index, "### Optional"))


class NestedTypes(unittest.TestCase):
    def test_object_attributes_and_nested_attributes_get_sections(self):
        schema = {"block": {"attributes": {
            "endpoint": {"type": ["object", {"host": "string", "port": "number"}], "computed": True},
            "rules": {"nested_type": {"nesting_mode": "list", "attributes": {
                "cidr": {"type": "string", "required": True, "description": "Range."}}}, "optional": True},
        }}}
        page = gen_docs.entity_page("Data Source", "stagesub_x", schema, Path("/nonexistent"))
        self.assertIn("- `endpoint` (Object) (see [below for nested schema](#nestedobjatt--endpoint))", page)
        self.assertIn("### Nested Schema for `endpoint`\n\nRead-Only:\n\n- `host` (String)\n- `port` (Number)", page)
        self.assertIn("- `rules` (Attributes List) (see [below for nested schema](#nestedatt--rules))", page)
        self.assertIn("Required:\n\n- `cidr` (String) Range.", page)

    def test_multi_line_description_stays_inside_its_list_item(self):
        schema = {"block": {"attributes": {"a": {"type": "string", "optional": True, "description": "One.\n- two"}}}}
        page = gen_docs.entity_page("Data Source", "stagesub_x", schema, Path("/nonexistent"))
        self.assertIn("- `a` (String) One.\n  - two", page)


class CheckMode(unittest.TestCase):
    def test_check_passes_on_fresh_docs_and_fails_on_stale_or_extra_pages(self):
        with tempfile.TemporaryDirectory() as tmp:
            docs = Path(tmp) / "docs"
            code, _, _ = run("--schema", str(SAMPLE), "--docs", str(docs))
            self.assertEqual(code, 0)
            code, out, _ = run("--check", "--schema", str(SAMPLE), "--docs", str(docs))
            self.assertEqual(code, 0, out)

            page = docs / "resources" / "orchestra_database.md"
            page.write_text(page.read_text().replace("The orchestra's subdomain,", "Hand edit,"))
            code, out, err = run("--check", "--schema", str(SAMPLE), "--docs", str(docs))
            self.assertEqual(code, 1)
            self.assertIn("-- `subdomain` (String) Hand edit,", out)
            self.assertIn("is stale: run scripts/gen-docs.py", err)

            run("--schema", str(SAMPLE), "--docs", str(docs))
            (docs / "resources" / "removed_resource.md").write_text("old\n")
            code, out, _ = run("--check", "--schema", str(SAMPLE), "--docs", str(docs))
            self.assertEqual(code, 1)
            self.assertIn("a/docs/resources/removed_resource.md", out)
            run("--schema", str(SAMPLE), "--docs", str(docs))
            self.assertFalse((docs / "resources" / "removed_resource.md").exists())

    def test_other_providers_schema_is_rejected_with_a_clear_error(self):
        code, _, err = run("--check", "--schema", str(HERE / "testdata" / "null-2.1.2-schema.json"))
        self.assertEqual(code, 2)
        self.assertIn("no provider registry.terraform.io/stagesub/stagesub", err)
        self.assertIn("hashicorp/null", err)

    def test_missing_provider_binary_names_the_build_command(self):
        with tempfile.TemporaryDirectory() as tmp:
            err = None
            try:
                gen_docs.schema_from_terraform(Path("/bin/sh"), Path(tmp) / "nope")
            except gen_docs.DocsError as e:
                err = str(e)
            self.assertIn("cargo build -p terraform-provider-stagesub", err or "")


if __name__ == "__main__":
    unittest.main()
