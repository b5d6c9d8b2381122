// qrsim rules [--firmware IMAGE]: every on-chip rule with its description, the values of
// learn.update / learn.feedback / traces.placement it implements and its own settings
// (learn.<rule>.<key>: type, default, range, what it does). Without --firmware: the rules
// built into qrsim (and into the default firmware image); with it: the rules registered in
// that image, read from the image itself (hw_models/rule_catalog.hpp).
#include "apps/cli.hpp"
#include "hw_models/rule_catalog.hpp"

#include <cstdio>
#include <memory>
#include <string>

namespace qrsim::app {

void register_rules(CLI::App& app) {
    auto firmware = std::make_shared<std::string>();
    CLI::App* sub = app.add_subcommand("rules", "List the on-chip learning rules and their settings");
    sub->add_option("--firmware", *firmware, "list the rules of this firmware image (scripts/build_rule) instead of "
                                             "the built-in ones")
        ->type_name("IMAGE.elf");
    sub->callback([firmware] {
        const RuleCatalog catalog = firmware->empty() ? builtin_rules() : image_rules(load_elf_image(*firmware));
        std::fputs(describe_rules(catalog).c_str(), stdout);
    });
}

}  // namespace qrsim::app
