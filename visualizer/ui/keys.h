// visualizer/ui/keys.h — what each key does in socklab-viz, and the same actions by name for flags and tests.
//
// Pure functions (no ImGui, no GLFW calls): the key codes are GLFW's (GLFW_KEY_S, ...), passed in as ints, so
// the mapping is unit-tested (tests/visualizer/keys_test.cpp) and the help window is drawn from the same table.
// app.cpp reads the keyboard each frame and applies the action to the selected run (apply_action).
//
//   Space        pause / resume: live, the step gate on or off; replay, play or pause
//   S            step: live, release the worker held longest and zoom on it; reference, the next scenario
//                line; replay, the cursor to the next event
//   R            run: live, release every held worker (the gate stays on); reference, to the end; replay, play
//   ] / [        slow motion up / down (0, 50, 100, 200, 500, 1000, 2000 ms after each wait)
//   PageDown / Right, PageUp / Left    next / previous lesson step (a presenter's clicker sends PageDown/Up)
//   Z            zoom the timeline on the last step (the last released worker, or the last wake)
//   Ctrl + / Ctrl -, Ctrl 0            larger / smaller text, back to the default size
//   F1 or ?      the keys window
#pragma once

#include <string>
#include <vector>

namespace socklab::viz::ui {

enum class Action {
    none,
    pause,  // pause / resume
    step,
    run,
    slow_up,
    slow_down,
    lesson_next,
    lesson_previous,
    zoom_last_step,
    font_larger,
    font_smaller,
    font_reset,
    help,
};

// The action of a key press (a GLFW key code and the modifiers held), or Action::none.
Action action_for_key(int glfw_key, bool ctrl, bool shift);

// "step", "slow-up", "next-step", ... (the names --do takes); action_from_name returns none for an unknown name.
const char* action_name(Action action);
Action action_from_name(const std::string& name);
// "step,step,slow-up" -> three actions; false (with the bad name in `error`) when one is unknown.
bool parse_actions(const std::string& list, std::vector<Action>& actions, std::string& error);

// The slow-motion ladder: the next delay up or down from `ms` (0, 50, 100, 200, 500, 1000, 2000).
unsigned next_slow_motion(unsigned ms, bool up);

// The UI scale ladder (text and sizes together): the next scale up or down from `scale`, within
// [kMinScale, kMaxScale]; and the default for a monitor whose content scale (glfwGetWindowContentScale) is given.
constexpr float kMinScale = 0.75f, kMaxScale = 3.0f;
constexpr float kBaseFontPixels = 15.0f;  // the UI font at scale 1
float next_scale(float scale, bool up);
float default_scale(float content_scale);
// The UI font's pixel size at `scale` (what the font atlas is rebuilt at).
float font_pixels(float scale);

// The keys window and the help line: one row per binding, as shown.
struct KeyHelp {
    const char* keys;
    const char* what;
};
const std::vector<KeyHelp>& key_help();

}  // namespace socklab::viz::ui
