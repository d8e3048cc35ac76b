// tests/visualizer/keys_test.cpp — the key map and the action names of socklab-viz (visualizer/ui/keys.h): the
// keys the keys window promises do what it says, the flags' names parse, the ladders stay in their ranges.
#include <string>
#include <vector>

#define GLFW_INCLUDE_NONE
#include <GLFW/glfw3.h>

#include "tests/catch.hpp"
#include "visualizer/ui/keys.h"

using namespace socklab::viz::ui;

TEST_CASE("each key the keys window lists maps to its action", "[viz][keys]") {
    CHECK(action_for_key(GLFW_KEY_S, false, false) == Action::step);
    CHECK(action_for_key(GLFW_KEY_R, false, false) == Action::run);
    CHECK(action_for_key(GLFW_KEY_SPACE, false, false) == Action::pause);
    CHECK(action_for_key(GLFW_KEY_RIGHT_BRACKET, false, false) == Action::slow_up);
    CHECK(action_for_key(GLFW_KEY_LEFT_BRACKET, false, false) == Action::slow_down);
    // A presenter's clicker sends PageDown / PageUp.
    CHECK(action_for_key(GLFW_KEY_PAGE_DOWN, false, false) == Action::lesson_next);
    CHECK(action_for_key(GLFW_KEY_PAGE_UP, false, false) == Action::lesson_previous);
    CHECK(action_for_key(GLFW_KEY_RIGHT, false, false) == Action::lesson_next);
    CHECK(action_for_key(GLFW_KEY_LEFT, false, false) == Action::lesson_previous);
    CHECK(action_for_key(GLFW_KEY_Z, false, false) == Action::zoom_last_step);
    CHECK(action_for_key(GLFW_KEY_F1, false, false) == Action::help);
    CHECK(action_for_key(GLFW_KEY_SLASH, false, true) == Action::help);  // '?'
}

TEST_CASE("Ctrl + and Ctrl - and Ctrl 0 size the text and without Ctrl they are not font keys", "[viz][keys]") {
    // Ctrl + is Ctrl Shift = on a US layout; Ctrl = and the keypad's + work too.
    CHECK(action_for_key(GLFW_KEY_EQUAL, true, true) == Action::font_larger);
    CHECK(action_for_key(GLFW_KEY_EQUAL, true, false) == Action::font_larger);
    CHECK(action_for_key(GLFW_KEY_KP_ADD, true, false) == Action::font_larger);
    CHECK(action_for_key(GLFW_KEY_MINUS, true, false) == Action::font_smaller);
    CHECK(action_for_key(GLFW_KEY_KP_SUBTRACT, true, false) == Action::font_smaller);
    CHECK(action_for_key(GLFW_KEY_0, true, false) == Action::font_reset);
    CHECK(action_for_key(GLFW_KEY_EQUAL, false, false) == Action::none);
    CHECK(action_for_key(GLFW_KEY_MINUS, false, false) == Action::none);
    // Ctrl S is not a step (nor is a plain '/').
    CHECK(action_for_key(GLFW_KEY_S, true, false) == Action::none);
    CHECK(action_for_key(GLFW_KEY_SLASH, false, false) == Action::none);
    CHECK(action_for_key(GLFW_KEY_A, false, false) == Action::none);
}

TEST_CASE("the action names of --do cover every action and an unknown one is refused by name", "[viz][keys]") {
    for (Action action : {Action::pause, Action::step, Action::run, Action::slow_up, Action::slow_down,
                          Action::lesson_next, Action::lesson_previous, Action::zoom_last_step, Action::font_larger,
                          Action::font_smaller, Action::font_reset, Action::help})
        CHECK(action_from_name(action_name(action)) == action);
    std::vector<Action> actions;
    std::string error;
    REQUIRE(parse_actions("step, step,slow-up,zoom-last-step", actions, error));
    CHECK(actions == std::vector<Action>{Action::step, Action::step, Action::slow_up, Action::zoom_last_step});
    actions.clear();
    CHECK_FALSE(parse_actions("step,jump", actions, error));
    CHECK(error.find("'jump'") != std::string::npos);
    CHECK(error.find("zoom-last-step") != std::string::npos);  // the list of names follows
}

TEST_CASE("slow motion climbs and descends its ladder and stays within it", "[viz][keys]") {
    CHECK(next_slow_motion(0, true) == 50);
    CHECK(next_slow_motion(50, true) == 100);
    CHECK(next_slow_motion(120, true) == 200);  // set by the slider between rungs
    CHECK(next_slow_motion(2000, true) == 2000);
    CHECK(next_slow_motion(2000, false) == 1000);
    CHECK(next_slow_motion(120, false) == 100);
    CHECK(next_slow_motion(50, false) == 0);
    CHECK(next_slow_motion(0, false) == 0);
}

TEST_CASE("the text scale steps within 0.75 to 3 and defaults to the monitor's and sizes the font", "[viz][keys]") {
    CHECK(next_scale(1.0f, true) == Approx(1.125f));
    CHECK(next_scale(1.25f, true) == Approx(1.5f));
    CHECK(next_scale(1.5f, false) == Approx(1.25f));
    CHECK(next_scale(3.0f, true) == Approx(3.0f));
    CHECK(next_scale(0.75f, false) == Approx(0.75f));
    CHECK(next_scale(1.3f, true) == Approx(1.5f));  // a --scale between rungs
    CHECK(default_scale(1.0f) == Approx(1.0f));
    CHECK(default_scale(2.0f) == Approx(2.0f));  // a 192-DPI monitor
    CHECK(default_scale(0.0f) == Approx(1.0f));  // no answer from the window system
    CHECK(default_scale(8.0f) == Approx(3.0f));
    CHECK(font_pixels(1.0f) == Approx(15.0f));
    CHECK(font_pixels(1.5f) > font_pixels(1.0f) * 1.45f);
    CHECK(font_pixels(2.0f) == Approx(30.0f));
}

TEST_CASE("the keys window lists every key the map knows", "[viz][keys]") {
    std::string listed;
    for (const KeyHelp& row : key_help()) listed += std::string(row.keys) + " ";
    for (const char* key : {"Space", "S", "R", "]", "[", "PageDown", "PageUp", "Z", "Ctrl +", "Ctrl -", "F1", "?"})
        CHECK(listed.find(key) != std::string::npos);
}
