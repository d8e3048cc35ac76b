// visualizer/ui/keys.cpp — the key map and the action names (see keys.h). No ImGui, no GLFW calls: GLFW's
// header only for its key codes.
#include "visualizer/ui/keys.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#define GLFW_INCLUDE_NONE
#include <GLFW/glfw3.h>

namespace socklab::viz::ui {

Action action_for_key(int key, bool ctrl, bool shift) {
    if (ctrl) {
        // Ctrl + is Ctrl Shift = on most layouts; Ctrl = works too, as in browsers.
        switch (key) {
            case GLFW_KEY_EQUAL:
            case GLFW_KEY_KP_ADD:
                return Action::font_larger;
            case GLFW_KEY_MINUS:
            case GLFW_KEY_KP_SUBTRACT:
                return Action::font_smaller;
            case GLFW_KEY_0:
            case GLFW_KEY_KP_0:
                return Action::font_reset;
            default:
                return Action::none;
        }
    }
    switch (key) {
        case GLFW_KEY_SPACE:
            return Action::pause;
        case GLFW_KEY_S:
            return Action::step;
        case GLFW_KEY_R:
            return Action::run;
        case GLFW_KEY_RIGHT_BRACKET:
            return Action::slow_up;
        case GLFW_KEY_LEFT_BRACKET:
            return Action::slow_down;
        case GLFW_KEY_PAGE_DOWN:
        case GLFW_KEY_RIGHT:
            return Action::lesson_next;
        case GLFW_KEY_PAGE_UP:
        case GLFW_KEY_LEFT:
            return Action::lesson_previous;
        case GLFW_KEY_Z:
            return Action::zoom_last_step;
        case GLFW_KEY_F1:
            return Action::help;
        case GLFW_KEY_SLASH:
            return shift ? Action::help : Action::none;  // '?' on a US layout
        default:
            return Action::none;
    }
}

namespace {

struct Named {
    Action action;
    const char* name;
};
const Named kNames[] = {
    {Action::pause, "pause"},
    {Action::step, "step"},
    {Action::run, "run"},
    {Action::slow_up, "slow-up"},
    {Action::slow_down, "slow-down"},
    {Action::lesson_next, "next-step"},
    {Action::lesson_previous, "previous-step"},
    {Action::zoom_last_step, "zoom-last-step"},
    {Action::font_larger, "larger"},
    {Action::font_smaller, "smaller"},
    {Action::font_reset, "default-size"},
    {Action::help, "help"},
};

const unsigned kSlowLadder[] = {0, 50, 100, 200, 500, 1000, 2000};
const float kScaleLadder[] = {0.75f, 0.875f, 1.0f, 1.125f, 1.25f, 1.5f, 1.75f, 2.0f, 2.5f, 3.0f};

}  // namespace

const char* action_name(Action action) {
    for (const auto& named : kNames)
        if (named.action == action) return named.name;
    return "none";
}

Action action_from_name(const std::string& name) {
    for (const auto& named : kNames)
        if (name == named.name) return named.action;
    return Action::none;
}

bool parse_actions(const std::string& list, std::vector<Action>& actions, std::string& error) {
    std::istringstream in(list);
    for (std::string name; std::getline(in, name, ',');) {
        name.erase(0, name.find_first_not_of(' '));
        name.erase(name.find_last_not_of(' ') + 1);
        if (name.empty()) continue;
        const Action action = action_from_name(name);
        if (action == Action::none) {
            error = "no action '" + name + "' (";
            for (const auto& named : kNames) error += std::string(named.name) + (&named == &kNames[11] ? ")" : ", ");
            return false;
        }
        actions.push_back(action);
    }
    return true;
}

unsigned next_slow_motion(unsigned ms, bool up) {
    if (up) {
        for (unsigned step : kSlowLadder)
            if (step > ms) return step;
        return kSlowLadder[std::size(kSlowLadder) - 1];
    }
    for (std::size_t i = std::size(kSlowLadder); i-- > 0;)
        if (kSlowLadder[i] < ms) return kSlowLadder[i];
    return 0;
}

float next_scale(float scale, bool up) {
    if (up) {
        for (float step : kScaleLadder)
            if (step > scale + 0.01f) return step;
        return kMaxScale;
    }
    for (std::size_t i = std::size(kScaleLadder); i-- > 0;)
        if (kScaleLadder[i] < scale - 0.01f) return kScaleLadder[i];
    return kMinScale;
}

float default_scale(float content_scale) {
    if (!(content_scale > 0) || !std::isfinite(content_scale)) return 1.0f;
    return std::clamp(content_scale, kMinScale, kMaxScale);
}

float font_pixels(float scale) { return std::round(kBaseFontPixels * std::clamp(scale, kMinScale, kMaxScale)); }

const std::vector<KeyHelp>& key_help() {
    static const std::vector<KeyHelp> rows = {
        {"Space", "pause / resume: live, the step gate on or off; replay, play or pause"},
        {"S",
         "step: release the worker held longest and zoom on it (live); next scenario line (reference); "
         "next event (replay)"},
        {"R", "run: release every held worker, the gate stays on (live); to the end (reference); play (replay)"},
        {"]  [", "slow motion up / down: 0, 50, 100, 200, 500, 1000, 2000 ms after each wait (live)"},
        {"PageDown  PageUp  (Right  Left)", "next / previous lesson step"},
        {"Z", "zoom the timeline on the last step: the last released worker, or the last wake"},
        {"Ctrl +  Ctrl -  Ctrl 0", "larger / smaller text, the default size (also --scale S)"},
        {"F1  ?", "this window"},
    };
    return rows;
}

}  // namespace socklab::viz::ui
